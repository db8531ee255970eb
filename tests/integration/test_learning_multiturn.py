"""LEARNING on a multi-turn task, on CPU: GRPO on arithmetic with a retry (experiment=arith_retry_learning).

A wrong first answer gets "the answer is larger/smaller, try again", and the second answer can fix it. GRPO
trains on whole 2-turn episodes (the env's feedback masked out of the loss). Held-out questions (never in the
training prompts) are played greedily before and after: success within 2 turns must rise by at least 0.2;
the first-turn-only success is reported beside it so the second turn's share is visible. Numbers and timing:
docs/harness.md.
"""

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.model, pytest.mark.slow]


# The run takes ~10 min on a quiet 2-core machine (pytest-timeout's default is 10 min).
@pytest.mark.timeout(1800)
def test_grpo_improves_heldout_success_within_two_turns(tmp_path):
    run_dir = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "openenv_harness",
            "experiment=arith_retry_learning",
            f"hydra.run.dir={run_dir}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    record = json.loads((run_dir / "run.json").read_text())
    before, after = record["metrics"]["eval_before"], record["metrics"]["eval_after"]
    n = int(before["n"])
    assert n == int(after["n"]) >= 30
    print(
        f"held-out (n={n}) success within 2 turns: {before['success']:.3f} -> {after['success']:.3f}; "
        f"first turn only: {before['first_turn_success']:.3f} -> {after['first_turn_success']:.3f}"
    )
    assert after["success"] >= before["success"] + 0.2, (before, after)
    assert after["error_rate"] == 0.0
    # Training episodes really had two turns (a wrong first answer was retried).
    eps = [json.loads(line) for line in (run_dir / "episodes.jsonl").read_text().splitlines()]
    train = [e for e in eps if e["phase"] == "train"]
    assert any(e["num_turns"] == 2 and e["tokens"]["env"] > 0 for e in train)

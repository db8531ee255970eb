"""Every shipped multi-turn env trains: a short GRPO run exits 0 with multi-turn episodes and masked env tokens."""

import json
import subprocess
import sys

import pytest

from openenv_harness.harness import read_scalars

pytestmark = [pytest.mark.model, pytest.mark.slow]

RUNS = {
    # run id: env and extra overrides (short episodes, short replies)
    "coding": ("coding", ["env.max_turns=2", "env.kwargs.max_turns=2", "policy.max_new_tokens=24"]),
    # Wordle with per-step credit from its trajectory rubric: TRL takes (B, T) advantages from our subclass
    # (episode credit is what the other envs run).
    "wordle-per_step": (
        "wordle",
        ["env.max_turns=3", "env.kwargs.max_turns=3", "policy.max_new_tokens=8", "learner.credit=per_step"],
    ),
    "tools": ("tools", ["env.max_turns=2", "policy.max_new_tokens=24"]),
    "support": ("support", ["env.max_turns=3", "policy.max_new_tokens=16"]),
}


@pytest.mark.parametrize("run", sorted(RUNS))
def test_short_grpo_run_trains_on_whole_episodes(tmp_path, run):
    env, extra = RUNS[run]
    run_dir = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "openenv_harness",
            f"env={env}",
            "logger=quiet",
            "learner.max_steps=1",
            "learner.group_size=2",
            "learner.groups_per_step=2",
            "learner.num_tasks=4",
            "policy.temperature=1.0",
            *extra,
            f"hydra.run.dir={run_dir}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "train finished" in proc.stdout and str(run_dir) in proc.stdout
    eps = [json.loads(line) for line in (run_dir / "episodes.jsonl").read_text().splitlines()]
    train = [e for e in eps if e["phase"] == "train"]
    assert train and all(e["env"] == env for e in train)
    multi = [e for e in train if e["num_turns"] > 1]
    assert multi, f"no multi-turn episode in {[e['num_turns'] for e in train]}"
    for e in multi:
        # The env's turns between the model's are in the trace, masked (not trained).
        assert e["tokens"]["env"] > 0 and e["tokens"]["model"] > 0
        assert [t["prompt"] for t in e["turns"]][0] != e["turns"][1]["prompt"]
    scalars = read_scalars(run_dir / "tb")
    assert scalars["rollout/turns_mean"][0][1] > 1.0 or len(multi) < len(train)
    assert "learner/loss" in scalars and "time/generation_s" in scalars

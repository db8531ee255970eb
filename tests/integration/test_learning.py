"""LEARNING on CPU: GRPO on env=arith raises greedy held-out accuracy (experiment=arith_learning).

Held-out = questions that never occur in the training prompts (filtered by text, not only by seed), scored
greedily by the env over the wire before and after training. Measured numbers and timing: docs/harness.md.
"""

import json
import subprocess
import sys

import pytest

from openenv_harness.harness.records import read_scalars

pytestmark = [pytest.mark.model, pytest.mark.slow]


def test_grpo_improves_heldout_accuracy_on_arith(tmp_path):
    run_dir = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "openenv_harness", "experiment=arith_learning", f"hydra.run.dir={run_dir}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    record = json.loads((run_dir / "run.json").read_text())
    before, after = record["metrics"]["eval_before"], record["metrics"]["eval_after"]
    n = int(before["n"])
    assert n == int(after["n"]) >= 30
    print(f"held-out accuracy (seed 0, n={n}): before {before['success']:.3f} after {after['success']:.3f}")
    assert after["success"] >= before["success"] + 0.2, (before, after)
    assert after["error_rate"] == 0.0
    scalars = read_scalars(run_dir / "tb")
    assert [s for s, _ in scalars["eval/success"]] == [0, record["steps"]]

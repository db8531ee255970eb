"""GRPO through TRL on the real small model: schedules pushed before each step, rewards from the env wire."""

import json
import subprocess
import sys

import pytest

from openenv_harness.harness.records import read_scalars

pytestmark = [pytest.mark.model, pytest.mark.slow]


def test_grpo_three_steps_with_schedule(tmp_path):
    run_dir = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "openenv_harness",
            "env=arith",
            "schedule=arith",
            "eval=heldout",
            "eval.num_tasks=4",
            "eval.every_n_steps=1",
            # The suite runs on the model being trained too, each time into a bundle.
            "++eval.suite={name:mini,evals:[{name:arith_mini,env:arith,n_tasks:2,"
            "success_component:correct,sampling:{max_new_tokens:8}}]}",
            "logger=quiet",
            "learner.max_steps=3",
            "learner.group_size=2",
            "learner.groups_per_step=2",
            "learner.num_tasks=4",
            "policy.max_new_tokens=8",
            "runtime.num_servers=2",
            f"hydra.run.dir={run_dir}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "finished" and record["steps"] == 3
    assert record["metrics"]["eval_before"]["n"] == 4 and record["metrics"]["eval_after"]["n"] == 4

    scalars = read_scalars(run_dir / "tb")
    # conf/schedule/arith.yaml: linear 0.5 -> 0 over learner.max_steps (3) steps
    expected = [0.5, 0.5 * 2 / 3, 0.5 / 3]
    assert [v for _, v in scalars["schedule/weights.format"]] == pytest.approx(expected, rel=1e-6)
    # The weights the env servers actually used (from the observations' metadata) follow the schedule.
    assert [v for _, v in scalars["config/observed_weight/format"]] == pytest.approx(expected, rel=1e-6)
    assert [v for _, v in scalars["reward/arith/weight/format"]] == pytest.approx(expected, rel=1e-6)
    assert [s for s, _ in scalars["learner/loss"]] == [0, 1, 2]
    for tag in (
        "reward/mean",
        "reward/std",
        "reward/component/correct",
        "reward/component/format",
        "grpo/zero_signal_group_frac",
        "rollout/turns_per_s",
        "rollout/error_rate",
        "time/generation_s",
    ):
        assert len(scalars[tag]) == 3, tag
    # Held-out eval before training, after every learner step (eval.every_n_steps=1) and after training.
    assert [s for s, _ in scalars["eval/success"]] == [0, 1, 2, 3]

    assert [s for s, _ in scalars["eval/arith_mini/success_rate"]] == [0, 1, 2, 3]
    for step in range(4):
        bundle = run_dir / "evals" / f"step{step:05d}"
        manifest = json.loads((bundle / "manifest.json").read_text())
        results = json.loads((bundle / "results.json").read_text())["evals"]["arith_mini"]
        # The policy is the in-memory model at that step, identified by a hash of its weights.
        assert manifest["policy"]["trained_steps"] == step and len(manifest["policy"]["model_hash"]) == 64
        assert results["n_episodes"] == 2
        assert dict(scalars["eval/arith_mini/success_rate"])[step] == pytest.approx(results["success_rate"])

    train = [json.loads(x) for x in (run_dir / "episodes.jsonl").read_text().splitlines()]
    train = [e for e in train if e["phase"] == "train"]
    assert len(train) == 3 * 2 * 2
    for e in train:
        turn = e["turns"][0]
        assert turn["weights"]["format"] == pytest.approx(expected[e["step"]])
        assert turn["config_version"] == e["step"] + 1  # two servers, each at the same version
    by_group = {}
    for e in train:
        by_group.setdefault((e["step"], e["group"]), set()).add(e["seed"])
    assert all(len(s) == 1 for s in by_group.values())  # a GRPO group = one task and seed

"""The CLI end to end without a model: collect with the scripted policy on two local env servers."""

import json
import subprocess
import sys
from pathlib import Path

from openenv_harness.harness.records import read_scalars


def _run(args, cwd, timeout=240):
    return subprocess.run(
        [sys.executable, "-m", "openenv_harness", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_collect_scripted_two_servers(tmp_path):
    run_dir = tmp_path / "run"
    proc = _run(
        [
            "env=echo",
            "policy=scripted",
            "learner=collect",
            "learner.max_steps=4",
            "learner.group_size=2",
            "learner.groups_per_step=3",
            "runtime.num_servers=2",
            "logger=quiet",
            f"hydra.run.dir={run_dir}",
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "finished" and record["steps"] == 4
    assert len(record["servers"]) == 2
    assert record["config"]["env"]["id"] == "echo"  # the resolved config is in the record
    pushes = record["metrics"]["schedule_pushes"]
    assert [p["versions"] for p in pushes] == [[1, 1], [2, 2], [3, 3], [4, 4]]  # both servers, every step

    episodes = [json.loads(line) for line in (run_dir / "episodes.jsonl").read_text().splitlines()]
    assert len(episodes) == 4 * 2 * 3
    for ep in episodes:
        turn = ep["turns"][0]
        expected = 0.1 - 0.01 * ep["step"]  # conf/schedule/echo.yaml: 0.1 -> 0.0 over 10 steps
        assert abs(turn["weights"]["length"] - expected) < 1e-9
        assert turn["config_version"] == ep["step"] + 1
    groups = {}
    for ep in episodes:  # a group shares one task and seed
        groups.setdefault((ep["step"], ep["group"]), set()).add(ep["seed"])
    assert all(len(s) == 1 for s in groups.values())

    scalars = read_scalars(run_dir / "tb")
    weights = [v for _, v in scalars["schedule/weights.length"]]
    assert weights == sorted(weights, reverse=True) and weights[0] > weights[-1]
    for tag in (
        "reward/mean",
        "reward/std",
        "reward/component/length",
        "grpo/zero_signal_group_frac",
        "rollout/episodes_per_s",
        "config/weights.length",
    ):
        assert len(scalars[tag]) == 4, tag


def test_bad_override_fails_before_anything_starts(tmp_path):
    proc = _run(["env=echo", "learner.max_steps=many"], tmp_path, timeout=60)
    assert proc.returncode != 0
    assert "learner.max_steps" in proc.stderr
    assert not (tmp_path / "outputs").exists()


def test_bad_schedule_fails_before_servers_start(tmp_path):
    proc = _run(
        [
            "env=echo",
            "schedule=none",
            "+schedule.targets={weights.length:{kind:linear,start:1}}",
            f"hydra.run.dir={tmp_path / 'r'}",
        ],
        tmp_path,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "schedule.targets.weights.length.end" in proc.stderr
    assert not (tmp_path / "r" / "run.json").exists()  # failed before the run started


def test_help_and_cfg_job(tmp_path):
    help_ = _run(["--help"], tmp_path, timeout=60)
    assert (
        help_.returncode == 0
        and "env: " in help_.stdout.replace("env:", "env: ")
        and "policy" in help_.stdout
    )
    job = _run(["env=echo", "learner.max_steps=3", "--cfg", "job"], tmp_path, timeout=60)
    assert job.returncode == 0
    assert "max_steps: 3" in job.stdout and "id: echo" in job.stdout
    assert not Path(tmp_path / "outputs").exists()


def test_collect_inprocess_provider(tmp_path):
    run_dir = tmp_path / "run"
    proc = _run(
        [
            "env=arith",
            "runtime=inprocess",
            "policy=scripted",
            "learner=collect",
            "learner.max_steps=2",
            "logger=quiet",
            f"hydra.run.dir={run_dir}",
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "finished" and record["servers"] == []
    assert [p["versions"] for p in record["metrics"]["schedule_pushes"]] == [[1], [2]]
    episodes = [json.loads(x) for x in (run_dir / "episodes.jsonl").read_text().splitlines()]
    # The scripted arith baseline (sum of the numbers) is right on one-digit sums.
    assert all(e["turns"][0]["components"]["correct"] == 1.0 for e in episodes)


def test_impossible_grpo_settings_fail_before_servers_start(tmp_path):
    for override, field in (
        ("policy.temperature=0", "policy.temperature"),
        ("learner.group_size=1", "learner.group_size"),
        ("policy=scripted", "policy.kind"),
    ):
        proc = _run(["env=echo", override, f"hydra.run.dir={tmp_path / 'r'}"], tmp_path, timeout=60)
        assert proc.returncode != 0 and field in proc.stderr, proc.stderr[-2000:]
        assert not (tmp_path / "r" / "run.json").exists()

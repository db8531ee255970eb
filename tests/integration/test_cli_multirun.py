"""A 2-job multirun with the joblib launcher: each job in its own dir, a summary table at the end."""

import json
import subprocess
import sys


def test_joblib_multirun_two_jobs(tmp_path):
    sweep = tmp_path / "sweep"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "openenv_harness",
            "-m",
            "hydra/launcher=joblib",
            "hydra.launcher.n_jobs=2",
            f"hydra.sweep.dir={sweep}",
            "env=echo",
            "policy=scripted",
            "learner=collect",
            "logger=quiet",
            "learner.max_steps=2",
            "learner.group_size=2",
            "learner.groups_per_step=1",
            "experiment.seed=1,2",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert jobs == ["0", "1"]
    seeds = set()
    for job in jobs:
        record = json.loads((sweep / job / "run.json").read_text())
        assert record["status"] == "finished"
        seeds.add(record["config"]["experiment"]["seed"])
        assert (sweep / job / "episodes.jsonl").stat().st_size > 0
    assert seeds == {1, 2}
    summary = (sweep / "summary.md").read_text()
    assert "experiment.seed=1" in summary and "experiment.seed=2" in summary
    assert summary.count("| finished |") == 2
    assert "Sweep summary" in proc.stdout

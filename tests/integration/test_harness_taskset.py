"""Train mode binds a configured taskset: tasks are rows of taskset.split, drawn by the taskset's sampler."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openenv_harness", *args],
        cwd=cwd,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_collect_draws_taskset_rows(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = run(
        "env=arith",
        f"taskset.ref={ROOT / 'tasksets' / 'arith'}",
        "taskset.split=train",
        "policy=scripted",
        "learner=collect",
        "runtime=inprocess",
        "learner.max_steps=2",
        "logger=quiet",
        f"hydra.run.dir={out}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    episodes = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert episodes and all(e["task_id"].startswith("arith/train/") for e in episodes)
    assert all(e["error"] is None for e in episodes)


def test_env_contradicting_the_taskset_is_refused_before_anything_starts(tmp_path: Path) -> None:
    """echo is not what tasksets/arith runs: one line names both (before: echo could not bind a taskset)."""
    proc = run(
        "env=echo",
        "taskset=arith",
        "policy=scripted",
        "learner=collect",
        "runtime=inprocess",
        f"hydra.run.dir={tmp_path / 'run'}",
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "error: env=echo contradicts taskset.ref=tasksets/arith: its manifest runs env 'arith' (drop env= to "
        "run what the taskset declares, or choose a taskset for that env)"
    )
    assert not (tmp_path / "run" / "run.json").exists()

"""Sweeps through the real Hydra launcher plugins (joblib, submitit's local executor, Ray on a loopback
instance), the cluster launcher configs composing against the plugins' schemas, and a summary even when a job
fails (basic launcher)."""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

JOB = [
    "env=arith",
    "policy=scripted",
    "learner=collect",
    "logger=quiet",
    "learner.max_steps=2",
    "learner.group_size=2",
    "learner.groups_per_step=1",
]


def _cli(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openenv_harness", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _check_two_seed_sweep(sweep: Path, proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert jobs == ["0", "1"]
    seeds = set()
    for job in jobs:
        record = json.loads((sweep / job / "run.json").read_text())
        assert record["status"] == "finished", record.get("error")
        assert record["steps"] == 2
        seeds.add(record["config"]["experiment"]["seed"])
        assert (sweep / job / "episodes.jsonl").stat().st_size > 0
    assert seeds == {1, 2}
    summary = (sweep / "summary.md").read_text()
    assert "experiment.seed=1" in summary and "experiment.seed=2" in summary
    assert summary.count("| finished |") == 2
    assert "Sweep summary" in proc.stdout
    rows = json.loads((sweep / "summary.json").read_text())
    assert sorted(r["job"] for r in rows) == ["0", "1"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_joblib_sweep(tmp_path):
    sweep = tmp_path / "sweep"
    proc = _cli(
        tmp_path,
        "-m",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        f"hydra.sweep.dir={sweep}",
        *JOB,
        "experiment.seed=1,2",
    )
    _check_two_seed_sweep(sweep, proc)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_submitit_local_sweep(tmp_path):
    sweep = tmp_path / "sweep"
    proc = _cli(
        tmp_path,
        "-m",
        "hydra/launcher=submitit_local",
        f"hydra.sweep.dir={sweep}",
        *JOB,
        "experiment.seed=1,2",
    )
    _check_two_seed_sweep(sweep, proc)
    # Each job ran as a submitit job (its own process, its pickled result and logs in the submitit folder).
    results = list((sweep / ".submitit").glob("*/*_result.pkl"))
    assert len(results) == 2, sorted(str(p) for p in (sweep / ".submitit").rglob("*"))


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_ray_local_sweep_on_loopback(tmp_path):
    sweep = tmp_path / "sweep"
    # Ray's unix sockets live under its temp dir, whose path must stay short (~107 bytes): not under tmp_path.
    ray_tmp = tempfile.mkdtemp(prefix="ohray", dir="/tmp")
    try:
        proc = _cli(
            tmp_path,
            "-m",
            "hydra/launcher=ray_local",
            f"+hydra.launcher.ray.init._temp_dir={ray_tmp}",
            f"hydra.sweep.dir={sweep}",
            *JOB,
            "experiment.seed=1,2",
            timeout=380,
        )
        _check_two_seed_sweep(sweep, proc)
        assert "Started a local Ray instance" in proc.stderr
        # The instance was this sweep's own, and its node registered on loopback (not the machine's address).
        gcs_logs = list(Path(ray_tmp).glob("session_2*/logs/gcs_server.out"))  # not the session_latest link
        assert len(gcs_logs) == 1
        registered = [line for line in gcs_logs[0].read_text().splitlines() if "Registering new node" in line]
        assert registered and all("node_address=127.0.0.1" in line for line in registered), registered
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)


@pytest.mark.parametrize(
    ("launcher", "expected"),
    [
        ("slurm", ["SlurmLauncher", "partition: gpu", "cpus_per_task: 8", "array_parallelism: 64"]),
        ("ray_cluster", ["RayLauncher", "address: auto", "num_cpus: 4"]),
        ("ray_local", ["RayLauncher", "address: local", "include_dashboard: false"]),
        ("submitit_local", ["LocalLauncher"]),
    ],
)
def test_launcher_configs_compose(tmp_path, launcher, expected):
    extra = ["hydra.launcher.partition=gpu"] if launcher == "slurm" else []
    proc = _cli(
        tmp_path, f"hydra/launcher={launcher}", *extra, "--cfg", "hydra", "-p", "hydra.launcher", timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    for text in expected:
        assert text in proc.stdout, proc.stdout


def test_slurm_config_schema_rejects_a_misspelt_key(tmp_path):
    proc = _cli(
        tmp_path, "hydra/launcher=slurm", "hydra.launcher.partiton=gpu", "--cfg", "hydra", timeout=120
    )
    assert proc.returncode != 0
    assert "partiton" in proc.stderr


@pytest.mark.slow
@pytest.mark.timeout(200)
def test_summary_written_when_a_job_fails(tmp_path):
    """Hydra's sweeper raises on a failed job before ``on_multirun_end``: the per-job summary must be there."""
    sweep = tmp_path / "sweep"
    # Job 0's server cannot come up in 10 ms: a RuntimeError in the job, which Hydra records as FAILED.
    proc = _cli(
        tmp_path,
        "-m",
        f"hydra.sweep.dir={sweep}",
        *JOB,
        "learner.max_steps=1",
        "runtime.startup_timeout_s=0.01,60",
        timeout=180,
    )
    assert proc.returncode == 1
    assert "printed no LISTENING line" in proc.stderr
    rows = {r["job"]: r for r in json.loads((sweep / "summary.json").read_text())}
    assert rows["0"]["status"] == "failed" and "LISTENING" in rows["0"]["error"]
    assert rows["1"]["status"] == "finished" and "error" not in rows["1"]
    summary = (sweep / "summary.md").read_text()
    assert "| failed |" in summary and "| finished |" in summary

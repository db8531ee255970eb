"""AutoEnv, ``package`` target: ``taskset.ref=REF`` alone runs a third-party env package from its own venv.

The package (``tests/autoenv/guess_pkg``) is built into a wheel offline here; the taskset names it as
``guess-env @ file:///...whl`` with a secret and resources. ``mode=eval`` with no ``env=`` builds the venv
(cold, in a temporary venv root), serves the env from it, writes a bundle naming what ran; ``mode=verify``
re-runs the bundle from the cached venv; ``learner=collect`` trains on it. The orchestrator's interpreter
never sees the package, and the secret's value is in no written file.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from autoenv.helpers import cli, ok, write_taskset  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

SECRET = "guess-secret-value-5f1e0c"


def _wheel(dest: Path) -> Path:
    """The package's wheel, built offline from a copy (setuptools writes build/ next to the sources)."""
    src = shutil.copytree(ROOT / "tests" / "autoenv" / "guess_pkg", dest.parent / "guess_pkg")
    env = {**os.environ, "PIP_NO_INDEX": "1", "SOURCE_DATE_EPOCH": "1700000000"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dest),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env=env,
    )
    (wheel,) = dest.glob("guess_env-*.whl")
    return wheel


def test_package_target_runs_from_its_own_venv(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "dist")
    taskset = write_taskset(
        tmp_path / "guess_ts",
        "guess",
        {
            "package": f"guess-env @ {wheel.as_uri()}",
            "env": "guess",
            "secrets": ["GUESS_TOKEN"],
            "resources": {"cpus": 1, "memory": "256m", "pids": 64, "timeout": 20},
        },
    )
    venvs = tmp_path / "venvs"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PIP_NO_INDEX": "1",  # everything comes from local wheels: the project's, the lock's, the package's
        "OPENENV_HARNESS_VENVS": str(venvs),
        "GUESS_TOKEN": SECRET,
    }
    common = [f"taskset.ref={taskset}", "taskset.trust_remote_code=true", "policy=scripted"]
    bundle = tmp_path / "bundle"

    t0 = time.monotonic()
    out = ok(cli(tmp_path, env, "mode=eval", *common, "eval.limit=3", f"eval.out={bundle}"))
    cold_s = time.monotonic() - t0
    assert "eval guess:" in out and "errors 0.000" in out and "reproducible True" in out, out

    manifest = json.loads((bundle / "manifest.json").read_text())
    ran = manifest["environments"]["guess"]
    assert ran["foreign"] is True and ran["runtime"] == "local"
    assert (ran["name"], ran["version"]) == ("guess", "0.3.0")  # what the served env said about itself
    target = ran["target"]
    assert (target["kind"], target["env_id"], target["package_version"]) == ("package", "guess", "0.3.0")
    assert target["secrets"] == ["GUESS_TOKEN"] and target["limits"]["timeout_s"] == 20.0
    assert target["taskset"]["content_hash"] == manifest["datasets"]["guess"]["content_hash"]
    (venv,) = [p for p in venvs.iterdir() if not p.name.startswith(".")]
    assert target["venv_key"].startswith(venv.name)

    records = [json.loads(line) for line in (bundle / "episodes.jsonl").read_text().splitlines()]
    assert len(records) == 3 and all(r["error"] is None for r in records)
    first_obs = json.dumps(records[0]["transcript"])
    assert str(venv) in first_obs  # the server's interpreter was the venv's ...
    assert "secret_set: true" in first_obs  # ... and the declared secret reached its process

    # The orchestrator's interpreter never got the package.
    assert importlib.util.find_spec("guess_env") is None
    probe = subprocess.run([sys.executable, "-c", "import guess_env"], capture_output=True, timeout=60)
    assert probe.returncode != 0

    t0 = time.monotonic()
    out = ok(cli(tmp_path, env, "mode=verify", f"eval.bundle={bundle}"))
    warm_s = time.monotonic() - t0
    assert "no differences" in out, out

    run_dir = tmp_path / "run"
    out = ok(
        cli(
            tmp_path,
            env,
            *common,
            "learner=collect",
            "learner.max_steps=2",
            "logger=quiet",
            f"hydra.run.dir={run_dir}",
        )
    )
    assert "train finished: 2 steps" in out
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "finished"
    assert record["environment"]["targets"]["guess"]["kind"] == "package"
    assert record["config"]["env"]["id"] == "guess"  # AutoEnv: the env the manifest runs, not the default

    written = [p for p in tmp_path.rglob("*") if p.is_file() and venvs not in p.parents]
    leaked = [str(p) for p in written if SECRET.encode() in p.read_bytes()]
    assert leaked == []
    assert len([p for p in venvs.iterdir() if not p.name.startswith(".")]) == 1  # built once, then reused
    print(f"package AutoEnv: cold eval {cold_s:.1f} s (venv built), verify {warm_s:.1f} s (venv cached)")


def test_autoenv_refuses_an_untrusted_package_before_anything_starts(tmp_path: Path) -> None:
    taskset = write_taskset(tmp_path / "guess_ts", "guess", {"package": "guess-env==0.3.0", "env": "guess"})
    venvs = tmp_path / "venvs"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PIP_NO_INDEX": "1", "OPENENV_HARNESS_VENVS": str(venvs)}
    proc = cli(
        tmp_path, env, "mode=eval", f"taskset.ref={taskset}", "policy=scripted", f"eval.out={tmp_path / 'b'}"
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith(
        f"error: taskset.ref={taskset}: environment 'guess' runs package 'guess-env==0.3.0'"
    )
    assert "taskset.trust_remote_code=true" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not venvs.exists() and not (tmp_path / "b").exists()  # no venv, no bundle, no server

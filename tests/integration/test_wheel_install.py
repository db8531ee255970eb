"""The built wheel, installed into a fresh venv, runs the CLI's modes with no checkout in sight.

The venv sees the system's site-packages for the dependencies (no network: the wheel is installed with
``--no-deps --no-index``); the commands run from an empty directory, so nothing is read from the checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("wheel")
    wheels = base / "dist"
    _ok(
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
                str(wheels),
                str(ROOT),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    )
    (wheel,) = wheels.glob("openenv_harness-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"openenv_harness", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}, (
        tops
    )
    assert "openenv_harness/_data/conf/config.yaml" in names
    assert "openenv_harness/_data/tasksets/arith/environment.yaml" in names
    assert (
        "openenv_harness/envs/arith/environment.py" in names and "openenv_harness/rubrics/match.py" in names
    )
    venv = base / "venv"
    _ok(
        subprocess.run(
            [sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
            capture_output=True,
            text=True,
        )
    )
    py = venv / "bin" / "python"
    _ok(
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
            capture_output=True,
            text=True,
            timeout=300,
        )
    )
    return py


def _run(py: Path, cwd: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": ""}
    return subprocess.run([str(py), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def test_installed_package_is_the_wheel_without_generic_top_level_names(
    venv_python: Path, tmp_path: Path
) -> None:
    code = (
        "import importlib.util, json, openenv_harness, openenv_harness.envs.arith as a;"
        "print(json.dumps([openenv_harness.__file__, a.__file__, importlib.util.find_spec('envs') is None,"
        " importlib.util.find_spec('rubrics') is None]))"
    )
    pkg, env_file, no_envs, no_rubrics = json.loads(_ok(_run(venv_python, tmp_path, "-c", code)))
    assert str(venv_python.parents[1]) in pkg and str(venv_python.parents[1]) in env_file
    assert no_envs and no_rubrics


def test_collect_eval_verify_serve_from_the_wheel(venv_python: Path, tmp_path: Path) -> None:
    cli = ("-m", "openenv_harness")
    out = _ok(
        _run(
            venv_python,
            tmp_path,
            *cli,
            "env=arith",
            "policy=scripted",
            "learner=collect",
            "learner.max_steps=2",
            "logger=quiet",
            f"hydra.run.dir={tmp_path / 'run'}",
        )
    )
    assert "train finished: 2 steps" in out
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "finished"
    out = _ok(
        _run(
            venv_python,
            tmp_path,
            *cli,
            "mode=eval",
            "env=arith",
            "taskset=arith",
            "policy=scripted",
            "eval.limit=3",
            f"eval.out={tmp_path / 'bundle'}",
        )
    )
    assert "reproducible True" in out
    assert "no differences" in _ok(
        _run(venv_python, tmp_path, *cli, "mode=verify", f"eval.bundle={tmp_path / 'bundle'}")
    )

    server = subprocess.Popen(
        [str(venv_python), *cli, "mode=serve", "env=echo", "server.port=0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": ""},
    )
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = server.stdout.readline() if server.stdout else ""
            if line.startswith("LISTENING "):
                url = line.split()[1]
        assert url, "the server never said where it listens"
        assert httpx.get(f"{url}/health", timeout=10).json()["status"] == "healthy"
    finally:
        server.terminate()
        server.wait(timeout=30)

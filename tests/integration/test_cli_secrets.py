"""Real commands with a distinctive token: no file any of them writes contains it (issue 12, item 2)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

SECRET = "tok-7c41e9-never-written"
COLLECT = ["env=arith", "policy=scripted", "learner=collect", "learner.max_steps=1", "runtime.sessions=2"]
COLLECT += ["learner.group_size=2", "logger.progress=false", "+rubric.weights.format=0.5"]  # a /config push


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openenv_harness", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
    )


def _leaks(root: Path) -> list[str]:
    """Every file under ``root`` whose bytes contain the secret."""
    return [str(p) for p in root.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]


def test_train_and_eval_never_write_the_token(tmp_path: Path) -> None:
    runs = [
        [*COLLECT, f"runtime.token={SECRET}", f"hydra.run.dir={tmp_path / 'plain'}"],
        [*COLLECT, "runtime.token=${oc.env:HARNESS_SECRET}", f"hydra.run.dir={tmp_path / 'interp'}"],
        ["mode=eval", "env=arith", "policy=scripted", "eval.num_tasks=2", "runtime.sessions=2"]
        + [
            f"runtime.token={SECRET}",
            f"eval.out={tmp_path / 'bundle'}",
            f"hydra.run.dir={tmp_path / 'eval'}",
        ],
        ["mode=verify", "runtime.token_env=HARNESS_SECRET", f"eval.bundle={tmp_path / 'bundle'}"]
        + [f"hydra.run.dir={tmp_path / 'verify'}"],
    ]
    for args in runs:
        proc = _run(args, tmp_path, HARNESS_SECRET=SECRET)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        assert SECRET not in proc.stdout + proc.stderr
    assert (tmp_path / "plain" / ".hydra" / "overrides.yaml").read_text().count("runtime.token=***") == 1
    assert "token: '***'" in (tmp_path / "bundle" / "config.yaml").read_text()
    assert "verify: no differences" in proc.stdout  # the *** in the bundle did not become the token
    assert _leaks(tmp_path) == []


def test_serve_token_guards_config_and_is_not_written(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "openenv_harness", "mode=serve", "env=echo", "server.port=0"]
        + [f"server.token={SECRET}", f"hydra.run.dir={tmp_path / 'serve'}"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url, deadline = None, time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if line.startswith("LISTENING "):
                url = line.split()[1]
            elif not line and proc.poll() is not None:
                break
        assert url, proc.stderr.read() if proc.poll() is not None else "no LISTENING line"  # type: ignore[union-attr]
        assert SECRET not in httpx.get(f"{url}/metadata", timeout=10).text
        assert httpx.get(f"{url}/config", timeout=10).status_code == 401
        auth = {"Authorization": f"Bearer {SECRET}"}
        assert httpx.get(f"{url}/config", headers=auth, timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert _leaks(tmp_path) == []


def test_unset_token_variable_is_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HARNESS_UNSET_TOKEN"}
    proc = subprocess.run(
        [sys.executable, "-m", "openenv_harness", *COLLECT, "runtime.token_env=HARNESS_UNSET_TOKEN"]
        + [f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "error: runtime.token_env: environment variable HARNESS_UNSET_TOKEN is not set (or empty)"
    )

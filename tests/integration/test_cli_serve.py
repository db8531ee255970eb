"""mode=serve: one env server on loopback until SIGTERM/SIGINT."""

import signal
import subprocess
import sys
import time

import httpx
import pytest

from openenv_harness.client import EnvClient


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_until_signal(tmp_path, sig):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openenv_harness",
            "mode=serve",
            "env=echo",
            "server.port=0",
            "server.max_sessions=3",
            "+rubric.weights.length=0.5",
            f"hydra.run.dir={tmp_path}",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        url = None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("LISTENING "):
                url = line.split()[1]
                break
            if not line and proc.poll() is not None:
                break
        assert url and url.startswith("http://127.0.0.1:"), (
            proc.stderr.read() if proc.poll() is not None else ""
        )
        assert httpx.get(f"{url}/health", timeout=10).status_code == 200
        cfg = httpx.get(f"{url}/config", timeout=10).json()
        assert cfg["config"]["weights"]["length"] == 0.5  # the rubric override was applied
        with EnvClient(url) as client:
            client.reset(seed=1)
            obs = client.step({"message": "abc"})
            assert obs.reward == 1.5
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

"""Ctrl-C (SIGINT) and SIGTERM in the middle of a run: servers stopped, the record says interrupted."""

import json
import signal
import subprocess
import sys
import time

import httpx
import pytest


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_stops_servers_and_keeps_outputs(tmp_path, sig):
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openenv_harness",
            "env=echo",
            "policy=scripted",
            "learner=collect",
            "learner.max_steps=1000000",
            "runtime.num_servers=2",
            "logger=quiet",
            f"hydra.run.dir={run_dir}",
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        episodes = run_dir / "episodes.jsonl"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not (episodes.exists() and episodes.stat().st_size > 0):
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.2)
        urls = json.loads((run_dir / "run.json").read_text())["servers"]
        assert len(urls) == 2
        for url in urls:  # alive before the signal
            assert httpx.get(f"{url}/health", timeout=5).status_code == 200
        proc.send_signal(sig)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "interrupted"
    assert record["servers"] == urls
    assert record["metrics"]["steps"] >= 1
    for url in urls:  # stopped after it
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{url}/health", timeout=2)
    assert episodes.read_text().count("\n") >= 1

"""`python -m openenv_harness.server` as a real process: announce line, fast start, clean SIGINT/SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect


def start(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str, float]:
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "openenv_harness.server", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    line = proc.stdout.readline()  # type: ignore[union-attr]
    if not line.startswith("LISTENING "):
        proc.kill()
        raise AssertionError(f"no LISTENING line: {line!r} {proc.stderr.read()}")  # type: ignore[union-attr]
    url = line.split()[1]
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() - t0 < 10
        time.sleep(0.01)
    return proc, url, time.monotonic() - t0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_announces_and_shuts_down_cleanly(sig: signal.Signals) -> None:
    proc, url, startup_s = start(
        "--env", "echo", "--env-kwargs", '{"max_steps": 7}', "--idle-timeout-s", "60"
    )
    try:
        assert url.startswith("http://127.0.0.1:")
        # < 1 s is the benchmark's target on a quiet machine; here we only guard against a gross regression
        assert startup_s < 5, startup_s
        with connect(url.replace("http", "ws") + "/ws") as ws:
            ws.send(json.dumps({"type": "reset", "data": {"seed": 1}}))
            assert json.loads(ws.recv(timeout=5))["type"] == "observation"
            sid = httpx.post(url + "/reset").json()["session_id"]
            assert httpx.get(url + "/health").json()["sessions"] == 2
            assert httpx.get(url + "/state", headers={"X-Session-Id": sid}).status_code == 200
            proc.send_signal(sig)
            with pytest.raises(ConnectionClosed):  # open connections are closed by the shutdown
                ws.recv(timeout=10)
        assert proc.wait(timeout=15) == 0
        out, err = proc.communicate(timeout=5)
        assert out == "" and "Traceback" not in err, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_token_env_guards_config() -> None:
    proc, url, _ = start("--env", "echo", "--token-env", "OEH_TEST_TOKEN", env={"OEH_TEST_TOKEN": "t0k"})
    try:
        assert httpx.post(url + "/config", json={"weights": {"length": 1}}).status_code == 401
        r = httpx.post(
            url + "/config", json={"weights": {"length": 1}}, headers={"Authorization": "Bearer t0k"}
        )
        assert r.status_code == 200 and r.json()["config_version"] == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--env", "no-such-env"], "unknown environment"),
        (["--env", "echo", "--env-kwargs", "{bad"], "not valid JSON"),
        (["--env", "echo", "--env-kwargs", '{"max_stepz": 1}'], "bad env_kwargs"),
        (["--env", "echo", "--token-env", "OEH_UNSET_VARIABLE_X"], "OEH_UNSET_VARIABLE_X"),
        (["--env", "os:system"], "refusing to import"),
    ],
)
def test_bad_arguments_fail_fast_with_a_clear_message(args: list[str], needle: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "openenv_harness.server", *args], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2 and needle in proc.stderr and proc.stdout == "", proc.stderr


def test_shutdown_does_not_wait_for_a_stuck_sync_env_call() -> None:
    proc, url, _ = start(
        "--env", "openenv_harness.envs.echo:SyncEchoEnvironment", "--env-kwargs", '{"max_steps": 9}'
    )
    try:
        with connect(url.replace("http", "ws") + "/ws") as ws:
            ws.send(json.dumps({"type": "reset"}))
            ws.recv(timeout=5)
            ws.send(json.dumps({"type": "step", "data": {"message": "sleep:60"}, "timeout_s": 0.2}))
            assert json.loads(ws.recv(timeout=5))["data"]["code"] == "TIMEOUT"
            # the sync step keeps sleeping in its worker thread; SIGTERM must still stop the server promptly
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
            assert time.monotonic() - t0 < 15
        assert "still running" in proc.stderr.read()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _threads(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("Threads:")).split()[1])


@pytest.mark.parametrize("env", ["echo", "openenv_harness.envs.echo:SyncEchoEnvironment"])
def test_thread_count_does_not_grow_with_sessions(env: str) -> None:
    import asyncio

    import websockets

    from openenv_harness.server import default_worker_count

    proc, url, _ = start("--env", env, "--env-kwargs", '{"max_steps": 100}')

    async def session(k: int) -> str:
        async with websockets.connect(url.replace("http", "ws") + "/ws") as ws:
            await ws.send(json.dumps({"type": "reset", "data": {"seed": k}}))
            await ws.recv()
            for i in range(3):
                await ws.send(json.dumps({"type": "step", "data": {"message": f"{k}-{i}"}}))
                last = json.loads(await ws.recv())["data"]["observation"]["message"]
            # all 96 sessions are open at once here
            await asyncio.sleep(0.3)
            return last

    async def main() -> tuple[list[str], int]:
        tasks = [asyncio.create_task(session(k)) for k in range(96)]
        await asyncio.sleep(0.2)
        peak = 0
        while not all(t.done() for t in tasks):
            peak = max(peak, _threads(proc.pid))
            await asyncio.sleep(0.02)
        return await asyncio.gather(*tasks), peak

    try:
        results, peak = asyncio.run(main())
        assert results == [f"{k}-2" for k in range(96)]
        assert peak <= 1 + default_worker_count(), (
            peak
        )  # main thread + the bounded pool, never one per session
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)

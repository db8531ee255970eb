"""Servers the runtime benchmark compares, each run in its own process, and how to watch them from /proc.

``python bench/_servers.py bare --port P``     bare Starlette/uvicorn WS (and HTTP) echo: the physical reference
``python bench/_servers.py openenv --port P``  OpenEnv 0.10's own ``create_app`` serving an equivalent echo env
Our server is ``python -m openenv_harness.server --env echo`` itself.

All three serve the same trivial environment: the observation echoes ``message``, a seed picks a ``greeting``,
the reward is 0.1 x the message length with its component in ``metadata``, and (for the benchmark) episodes
never end. All run uvicorn with the access log off, so no server pays for logging.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

GREETINGS = ("hello", "bonjour", "hola", "ciao", "hallo", "salut", "ahoj", "hej", "moi", "ola")
MAX_STEPS = 10**9  # the benchmark's episodes never end, so every step is a step (no resets mixed in)
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- the bare reference ---------------------------------------------------------------------------------------


def bare_app() -> Any:
    """A Starlette app with the echo env's logic inlined: JSON in, the same observation JSON out."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket

    def observation(message: str, greeting: str, reward: float | None) -> dict[str, Any]:
        meta = {"reward_components": {"length": float(len(message))}} if reward is not None else {}
        return {
            "observation": {"message": message, "greeting": greeting},
            "reward": reward,
            "done": False,
            "metadata": meta,
        }

    def answer(frame: dict[str, Any]) -> dict[str, Any]:
        if frame.get("type") == "reset":
            seed = (frame.get("data") or {}).get("seed")
            return {
                "type": "observation",
                "data": observation("", random.Random(seed).choice(GREETINGS), None),
            }
        message = str(frame["data"]["message"])
        return {"type": "observation", "data": observation(message, "", 0.1 * len(message))}

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                frame = json.loads(await websocket.receive_text())
                if frame.get("type") == "close":
                    break
                await websocket.send_text(json.dumps(answer(frame)))
        except Exception:  # disconnect
            return
        await websocket.close()

    async def health(request: Request) -> Response:
        return Response('{"status":"healthy"}', media_type="application/json")

    async def step(request: Request) -> Response:
        body = json.loads(await request.body())
        msg = str(body["action"]["message"])
        return Response(json.dumps(observation(msg, "", 0.1 * len(msg))), media_type="application/json")

    async def reset(request: Request) -> Response:
        seed = json.loads(await request.body() or b"{}").get("seed")
        data = observation("", random.Random(seed).choice(GREETINGS), None)
        return Response(json.dumps(data), media_type="application/json")

    routes = [
        WebSocketRoute("/ws", ws),
        Route("/health", health),
        Route("/step", step, methods=["POST"]),
        Route("/reset", reset, methods=["POST"]),
    ]
    return Starlette(routes=routes)


# --- OpenEnv's own server ---------------------------------------------------------------------------------------


def openenv_app() -> Any:
    """OpenEnv 0.10's ``create_app`` serving an echo env written against OpenEnv's own base classes."""
    os.environ.pop("ENABLE_WEB_INTERFACE", None)  # the plain API app, no gradio UI mounted
    from openenv.core.env_server import create_app
    from openenv.core.env_server.interfaces import Environment
    from openenv.core.env_server.types import Action, Observation, State

    class BenchEchoAction(Action):
        message: str

    class BenchEchoObservation(Observation):
        message: str = ""
        greeting: str = ""

    class BenchEchoEnv(Environment[BenchEchoAction, BenchEchoObservation, State]):
        SUPPORTS_CONCURRENT_SESSIONS = True

        def __init__(self) -> None:
            super().__init__()
            self._state = State(episode_id=None, step_count=0)

        def reset(
            self, seed: int | None = None, episode_id: str | None = None, **kw: Any
        ) -> BenchEchoObservation:
            self._state = State(episode_id=episode_id or uuid.uuid4().hex, step_count=0)
            return BenchEchoObservation(greeting=random.Random(seed).choice(GREETINGS))

        def step(
            self, action: BenchEchoAction, timeout_s: float | None = None, **kw: Any
        ) -> BenchEchoObservation:
            self._state.step_count += 1
            length = float(len(action.message))
            return BenchEchoObservation(
                message=action.message,
                reward=0.1 * length,
                done=self._state.step_count >= MAX_STEPS,
                metadata={"reward_components": {"length": length}},
            )

        @property
        def state(self) -> State:
            return self._state

    return create_app(
        BenchEchoEnv, BenchEchoAction, BenchEchoObservation, env_name="bench_echo", max_concurrent_envs=2048
    )


# --- launching and watching -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_command(kind: str, port: int) -> list[str]:
    """The command line that serves ``kind`` (ours | bare | openenv) on 127.0.0.1:port."""
    if kind == "ours":
        cmd = [sys.executable, "-m", "openenv_harness.server", "--env", "echo"]
        cmd += ["--env-kwargs", json.dumps({"max_steps": MAX_STEPS}), "--max-sessions", "4096"]
        cmd += ["--idle-timeout-s", "3600"]
    else:
        cmd = [sys.executable, os.path.abspath(__file__), kind]
    return [*cmd, "--host", "127.0.0.1", "--port", str(port)]


@dataclass
class Server:
    """A benchmarked server process."""

    kind: str
    proc: subprocess.Popen[bytes]
    port: int
    start_to_healthy_s: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def _healthy(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        conn.request("GET", "/health")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def launch(kind: str, core: int | None, timeout_s: float = 60.0) -> Server:
    """Start a server (pinned to ``core`` with taskset if given) and time process start to healthy /health."""
    port = free_port()
    cmd = server_command(kind, port)
    if core is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(core), *cmd]  # taskset execs: the PID is the server's
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    while not _healthy(port):
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"{kind} server exited with {proc.returncode}: {err[-2000:]}")
        if time.perf_counter() - t0 > timeout_s:
            proc.kill()
            raise RuntimeError(f"{kind} server not healthy after {timeout_s} s")
        time.sleep(0.005)
    return Server(kind, proc, port, time.perf_counter() - t0)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15 of stat)


def threads_and_rss(pid: int) -> tuple[int, float]:
    """``(threads, RSS in MiB)`` of a process from /proc/PID/status."""
    threads, rss_kib = 0, 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                threads = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                rss_kib = int(line.split()[1])
    return threads, rss_kib / 1024


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["bare", "openenv"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    import uvicorn

    app = bare_app() if args.kind == "bare" else openenv_app()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    _main()

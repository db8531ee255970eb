"""The benchmark's load client: N concurrent sessions over raw WS or raw keep-alive HTTP, or in-process.

One client for every server: plain OpenEnv frames (``{"type": "step", "data": {"message": ...}}``) over
``websockets`` asyncio connections without compression or pings, and a minimal HTTP/1.1 keep-alive client on
asyncio streams (httpx would cost the client more than the servers spend per request). A session is one
connection: connect, reset once, then step until the phase ends. Every reply is checked for its type (or HTTP
status) so an error counts as a failed step, and a session succeeds only if it connected, reset and never failed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect

STEP_FRAME = json.dumps({"type": "step", "data": {"message": "hello"}})
_OBS_MARKERS = ('"type":"observation"', '"type": "observation"')


@dataclass
class Phase:
    """What one load phase measured."""

    sessions: int
    connected: int = 0
    ok_steps: int = 0
    failed_steps: int = 0
    failed_sessions: int = 0
    latencies: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    errors: list[str] = field(default_factory=list)

    def fail(self, what: str) -> None:
        self.failed_sessions += 1
        if len(self.errors) < 5:
            self.errors.append(what)


class _WSSession:
    def __init__(self, url: str) -> None:
        self.url = url.replace("http://", "ws://") + "/ws"
        self.ws: Any = None

    async def open(self, seed: int) -> None:
        self.ws = await connect(
            self.url, compression=None, ping_interval=None, open_timeout=60, max_size=2**24
        )
        await self.ws.send(json.dumps({"type": "reset", "data": {"seed": seed}}))
        reply = await self.ws.recv()
        if not any(m in reply for m in _OBS_MARKERS):
            raise RuntimeError(f"reset answered {reply[:200]}")

    async def step(self) -> bool:
        await self.ws.send(STEP_FRAME)
        reply = await self.ws.recv()
        return any(m in reply[:40] for m in _OBS_MARKERS)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


class _HTTPSession:
    """One keep-alive HTTP/1.1 connection; stateful servers get the session id back on every step."""

    def __init__(self, url: str) -> None:
        self.host, port = url.removeprefix("http://").split(":")
        self.port = int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.step_request = b""

    def _request(self, path: str, body: bytes, extra: str = "") -> bytes:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n"
        )
        return head.encode() + body

    async def _roundtrip(self, request: bytes) -> tuple[int, bytes, bytes]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        i = lower.find(b"content-length:")
        n = int(lower[i + 15 : lower.find(b"\r\n", i)]) if i >= 0 else 0
        body = await self.reader.readexactly(n) if n else b""
        return status, head, body

    async def open(self, seed: int) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        status, head, body = await self._roundtrip(
            self._request("/reset", json.dumps({"seed": seed}).encode())
        )
        if status != 200:
            raise RuntimeError(f"reset answered {status}: {body[:200]!r}")
        sid = json.loads(body).get("session_id")  # ours is stateful; OpenEnv's HTTP routes are not
        extra = f"X-Session-Id: {sid}\r\n" if sid else ""
        self.step_request = self._request(
            "/step", json.dumps({"action": {"message": "hello"}}).encode(), extra
        )

    async def step(self) -> bool:
        status, _, _ = await self._roundtrip(self.step_request)
        return status == 200

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class _InProcessSession:
    def __init__(self, provider: Any) -> None:
        self.client = provider.async_client()

    async def open(self, seed: int) -> None:
        await self.client.reset(seed=seed)

    async def step(self) -> bool:
        obs = await self.client.step({"message": "hello"})
        # A fast env may be stepped inline (no await that suspends): yield so other sessions and the timer run.
        await asyncio.sleep(0)
        return obs.message == "hello"

    async def close(self) -> None:
        await self.client.close()


def session_factory(transport: str, target: Any) -> Callable[[], Any]:
    """A maker of sessions: ``ws``/``http`` against a base URL, ``inprocess`` against an InProcessProvider."""
    if transport == "ws":
        return lambda: _WSSession(target)
    if transport == "http":
        return lambda: _HTTPSession(target)
    if transport == "inprocess":
        return lambda: _InProcessSession(target)
    raise ValueError(f"unknown transport {transport!r}")


async def run_phase(
    make: Callable[[], Any],
    n: int,
    duration_s: float,
    on_loaded: Callable[[], Awaitable[None]] | None = None,
    on_start: Callable[[], None] | None = None,
    on_end: Callable[[], None] | None = None,
) -> Phase:
    """Open ``n`` sessions (reset each), then step all of them concurrently for ``duration_s``.

    ``on_start``/``on_end`` bracket the stepping only (that is where server CPU is read); ``on_loaded`` runs
    once mid-phase, with every session open (that is where threads and RSS under load are read).
    """
    phase = Phase(sessions=n)
    sem = asyncio.Semaphore(64)  # do not open 512 connections in one burst (SYN backlog)

    async def opened(i: int) -> Any:
        session = make()
        async with sem:
            try:
                await asyncio.wait_for(session.open(seed=i), 60)
                return session
            except Exception as exc:
                phase.fail(f"open: {exc!r}"[:200])
                return None

    sessions = [s for s in await asyncio.gather(*(opened(i) for i in range(n))) if s is not None]
    phase.connected = len(sessions)
    stop = False
    lat = phase.latencies

    async def loop(session: Any) -> None:
        nonlocal stop
        clock = time.perf_counter
        ok = failed = 0
        try:
            while not stop:
                t0 = clock()
                if await session.step():
                    ok += 1
                    lat.append(clock() - t0)
                else:
                    failed += 1
        except Exception as exc:
            failed += 1
            phase.fail(f"step: {exc!r}"[:200])
        else:
            if failed:
                phase.fail(f"{failed} steps answered with an error")
        phase.ok_steps += ok
        phase.failed_steps += failed

    async def timer() -> None:
        nonlocal stop
        await asyncio.sleep(duration_s / 2)
        if on_loaded is not None:
            await on_loaded()
        await asyncio.sleep(duration_s / 2)
        stop = True

    if on_start is not None:
        on_start()
    t0 = time.perf_counter()
    await asyncio.gather(timer(), *(loop(s) for s in sessions))
    phase.wall_s = time.perf_counter() - t0
    if on_end is not None:
        on_end()
    await asyncio.gather(*(asyncio.wait_for(s.close(), 10) for s in sessions), return_exceptions=True)
    return phase

"""``ConnectionWatchdog``: close connections that hold a socket without sending a request, and enforce a cap.

uvicorn bounds idle keep-alive connections (``timeout_keep_alive``) but not a connection that has not finished
sending its request head: one that opens and says nothing, or sends half a header, is held forever, and enough
of them exhaust the process's file descriptors. ASGI apps never see such connections (the app is only called
once the head is complete), so this has to live at the server: a task on uvicorn's loop looks at
``server_state.connections`` a few times per ``header_timeout_s`` and closes

* HTTP connections that have waited longer than ``header_timeout_s`` for a complete request head (counted
  from when the watchdog first sees them waiting, so a keep-alive connection gets the same allowance after
  each response), and
* HTTP connections beyond ``max_connections`` that have no request in flight, those waiting longest first, so
  the cap holds against a flood of silent connections (uvicorn's own ``limit_concurrency`` answers requests
  beyond the cap with 503 but keeps their sockets). A real client sends its request head as soon as it
  connects, so it is never the one found waiting; keep-alive connections between requests may be, and simply
  reconnect.

It relies on two attributes every uvicorn HTTP protocol has had for years (``transport`` and ``cycle``, None
until the first request head and ``response_complete`` between requests); WebSocket connections, which have no
``cycle``, are left to the WebSocket library's pings and to the session reaper. ``tests/integration/
test_server_limits.py`` fails if a uvicorn upgrade changes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

log = logging.getLogger(__name__)


def _waiting(conn: Any) -> Any:
    """The key of the wait a connection is in (no request in flight), or None while a request runs.

    The key is the last request cycle (None before the first), so a connection that completed another request
    since the last look starts a fresh wait.
    """
    cycle = conn.cycle
    if cycle is None or getattr(cycle, "response_complete", False):
        return id(cycle) if cycle is not None else 0
    return None


class ConnectionWatchdog:
    """Header timeout and connection cap for one uvicorn server (see the module docstring).

    Args:
        connections: uvicorn's live set of protocol objects (``server.server_state.connections``).
        header_timeout_s: Seconds a connection may wait without a complete request head.
        max_connections: Connections held at most; idle ones beyond are closed.
    """

    def __init__(self, connections: set[Any], header_timeout_s: float, max_connections: int) -> None:
        self.connections = connections
        self.header_timeout_s = header_timeout_s
        self.max_connections = max_connections
        # a few looks per timeout, and at least two a second so a flood is cut within half a second
        self.interval_s = min(0.5, max(0.05, header_timeout_s / 4))
        self.closed_slow = 0
        """Connections closed for not sending a request head in time."""
        self.closed_over_cap = 0
        """Idle connections closed because the server was over ``max_connections``."""
        self._since: dict[int, tuple[Any, float, Any]] = {}
        self._task: asyncio.Task[None] | None = None

    def check(self, now: float | None = None) -> None:
        """One look at every connection: close the slow ones and those over the cap."""
        now = time.monotonic() if now is None else now
        since: dict[int, tuple[Any, float, Any]] = {}
        idle: list[tuple[float, Any]] = []
        live = 0
        for conn in list(self.connections):
            transport = getattr(conn, "transport", None)
            if transport is None or transport.is_closing():
                continue
            live += 1
            if not hasattr(conn, "cycle"):  # a WebSocket connection
                continue
            key = _waiting(conn)
            if key is None:
                continue
            prev = self._since.get(id(conn))
            started = prev[1] if prev is not None and prev[0] == key and prev[2] is conn else now
            if now - started > self.header_timeout_s:
                self.closed_slow += 1
                self._close(conn, "no complete request head within header_timeout_s")
                live -= 1
                continue
            since[id(conn)] = (key, started, conn)
            idle.append((started, conn))
        self._since = since
        excess = live - self.max_connections
        if excess > 0:
            idle.sort(key=lambda item: item[0])  # waiting longest first: they had every chance to send
            for _, conn in idle[:excess]:
                self.closed_over_cap += 1
                self._close(conn, f"over max_connections={self.max_connections}")
                self._since.pop(id(conn), None)

    @staticmethod
    def _close(conn: Any, why: str) -> None:
        log.info("closing connection from %s: %s", getattr(conn, "client", None), why)
        with contextlib.suppress(Exception):  # already gone
            conn.transport.close()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the watchdog must survive anything
                log.exception("connection watchdog failed")

    def start(self) -> None:
        """Start watching on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            self._task = None


__all__ = ["ConnectionWatchdog"]

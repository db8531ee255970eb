"""One background thread per process that answers server pings for idle blocking WebSocket connections.

Servers (uvicorn's default: a ping every 20 s, 20 s to answer) close connections that do not answer pings.
:class:`~openenv_harness.client.EnvClient` reads its socket only during a call, so a client that sits idle
while the agent thinks (an LLM generating on CPU easily takes a minute) would lose its episode. Every
``interval_s`` this thread visits each idle connection, and if bytes are waiting it feeds them to the
protocol, which queues the pongs (and keeps any late reply for the client to discard). A connection in use
is skipped: its owner reads it. The thread is shared by all clients, started on the first connection and
ends when no connection is left, so the cost is one thread per process, never one per client.
"""

from __future__ import annotations

import contextlib
import select
import threading
import weakref
from typing import Protocol


class _Pollable(Protocol):
    io_lock: threading.Lock

    def poll_idle(self) -> None: ...


class _Keeper:
    def __init__(self, interval_s: float = 2.0) -> None:
        self.interval_s = interval_s
        self._members: weakref.WeakSet[_Pollable] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._waiting_for = interval_s

    def add(self, conn: _Pollable) -> None:
        with self._lock:
            self._members.add(conn)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="openenv-ws-keepalive", daemon=True)
                self._thread.start()
            elif self.interval_s != self._waiting_for:
                self._wake.set()  # interval_s changed (tests shorten it): restart the wait with the new value

    def discard(self, conn: _Pollable) -> None:
        with self._lock:
            self._members.discard(conn)

    def _run(self) -> None:
        while True:
            self._waiting_for = self.interval_s
            self._wake.wait(self._waiting_for)
            self._wake.clear()
            with self._lock:
                members = list(self._members)
                if not members:
                    self._thread = None
                    return
            for conn in members:
                if conn.io_lock.acquire(blocking=False):
                    try:
                        conn.poll_idle()
                    except Exception:  # noqa: BLE001 - a broken connection is reported by its next call
                        pass
                    finally:
                        conn.io_lock.release()
            del members


KEEPER = _Keeper()
"""The process-wide keeper."""


def readable(sock_fileno: int) -> bool:
    """True if the socket has bytes (or EOF) waiting; never blocks."""
    if sock_fileno < 0:
        return False
    with contextlib.suppress(OSError, ValueError):
        return bool(select.select([sock_fileno], [], [], 0)[0])
    return False

"""The I/O-free part of a WebSocket env client: request ids, stale replies, timeouts and lost episodes.

The sync and async clients only move frames; this state machine decides what a frame means.

Late replies. Every call has a client-side deadline. When a call times out, its reply may still arrive later.
* With one of our servers (``ids`` in ``/metadata``) every frame carries a fresh integer ``id``; a reply whose
  ``id`` is not the one being waited for is discarded, so a late reply is never read as the next answer.
  The connection and the episode stay usable (the timed-out step may or may not have been applied: read
  :meth:`state` or reset if that matters).
* With a plain OpenEnv server (no ids) a late reply cannot be told apart from the next one, so after a
  client-side timeout the connection is *poisoned*: it is closed at once, the episode is lost, and the next
  :meth:`reset` opens a fresh connection. Draining instead (waiting for the late reply) would block for an
  unknown time and still guess.

Lost connections. If the connection drops while a call is in flight, the call raises ``CONNECTION_LOST``
naming the lost episode; every later step/state raises the same until :meth:`reset`, which reconnects
(retrying for ``connect_timeout_s``, possibly to another server of a pool) and starts a new episode.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from ..spec import EnvError, ErrorCode
from ._protocol import ServerProtocol, decode, encode


def server_error(raws: list[str | bytes]) -> EnvError | None:
    """The error a server sent before it closed the connection (e.g. ``CAPACITY`` right after accept).

    Such a frame answers no request (it has no ``id``); when the connection then drops, it is the real
    reason and is raised instead of a bare ``CONNECTION_LOST``.
    """
    for raw in raws:
        try:
            msg = decode(raw)
        except EnvError:
            continue
        data = msg.get("data")
        if msg.get("type") == "error" and msg.get("id") is None and isinstance(data, dict):
            return EnvError.from_wire(data)
    return None


class ClientCore:
    """Protocol state shared by :class:`EnvClient` and :class:`AsyncEnvClient`.

    Args:
        base_url: The server to connect to first.
        reconnect_url: Called on every reconnect to choose a server (a provider's round-robin); defaults to
            ``base_url``.
        request_timeout_s: Client-side wait for a reply when the call sets no ``timeout_s``.
        reply_grace_s: Extra wait beyond a step's ``timeout_s`` that our server enforces itself.
    """

    def __init__(
        self,
        base_url: str,
        reconnect_url: Callable[[], str] | None,
        request_timeout_s: float,
        reply_grace_s: float,
    ) -> None:
        self.base_url = base_url
        self.reconnect_url = reconnect_url
        self.request_timeout_s = request_timeout_s
        self.reply_grace_s = reply_grace_s
        self.protocol: ServerProtocol | None = None
        self.lost: str | None = None
        """Why the current episode is lost (None while it is fine); cleared by a successful reset."""
        self.connected_once = False
        self.stale_ids: set[int] = set()
        self.discarded = 0
        """How many late replies were discarded (for tests and diagnostics)."""
        self._ids = itertools.count(1)

    def next_url(self) -> str:
        """The server to (re)connect to."""
        if self.connected_once and self.reconnect_url is not None:
            self.base_url = self.reconnect_url()
        return self.base_url

    def check_usable(self, op: str) -> None:
        """Refuse a step/state after the episode was lost (until a reset)."""
        if self.lost is not None:
            raise EnvError(
                ErrorCode.CONNECTION_LOST,
                f"cannot {op}: the episode was lost ({self.lost}); call reset() to start a new one",
            )

    def prepare(self, frame: dict[str, Any], timeout_s: float | None) -> tuple[str, int | None, float]:
        """Stamp a frame with an id (if supported) and return ``(text, id, client wait in seconds)``."""
        proto = self.protocol
        rid: int | None = None
        if proto is not None and proto.ids:
            rid = next(self._ids)
            frame["id"] = rid
        if timeout_s is None:
            wait = self.request_timeout_s
        elif proto is not None and proto.timeout_s:
            frame["timeout_s"] = timeout_s
            wait = timeout_s + self.reply_grace_s  # the server answers TIMEOUT itself; give it room to
        else:
            wait = timeout_s
        return encode(frame), rid, wait

    def accept(self, msg: dict[str, Any], rid: int | None) -> bool:
        """True if ``msg`` answers request ``rid``; False for a late reply to discard."""
        if rid is None:
            return True
        mid = msg.get("id")
        if mid == rid:
            return True
        if mid is None and not self.stale_ids:
            return True  # e.g. an error about a frame the server could not parse: nothing else is pending
        if isinstance(mid, int):
            self.stale_ids.discard(mid)
        self.discarded += 1
        return False

    def on_timeout(self, op: str, rid: int | None, wait: float) -> tuple[EnvError, bool]:
        """Error for a client-side timeout and whether the connection must be dropped (poisoned)."""
        if rid is not None:
            self.stale_ids.add(rid)
            return (
                EnvError(
                    ErrorCode.TIMEOUT,
                    f"{op}: no reply from {self.base_url} within {wait:.3g}s; a late reply will be "
                    "discarded. The step may or may not have been applied; reset if that matters.",
                ),
                False,
            )
        self.lost = f"{op} timed out after {wait:.3g}s on a server without request ids"
        return (
            EnvError(
                ErrorCode.TIMEOUT,
                f"{op}: no reply from {self.base_url} within {wait:.3g}s; this server does not support "
                "request ids, so the connection was dropped and the episode is lost; call reset()",
            ),
            True,
        )

    def on_lost(self, op: str, exc: BaseException) -> EnvError:
        """Error for a connection that dropped while ``op`` was in flight; marks the episode lost."""
        self.lost = f"connection to {self.base_url} dropped during {op}: {exc}"
        self.stale_ids.clear()
        return EnvError(
            ErrorCode.CONNECTION_LOST,
            f"{op}: connection to {self.base_url} lost ({exc}); the episode is lost, call reset() to start "
            "a new one (the client reconnects)",
        )

    def on_connected(self, protocol: ServerProtocol) -> None:
        """Record a fresh connection (nothing stale can arrive on it)."""
        self.protocol = protocol
        self.connected_once = True
        self.stale_ids.clear()

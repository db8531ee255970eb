"""``ServerLimits``: what one client may cost the server, whatever it sends or fails to send.

The session cap (``max_sessions``), the idle reaper (``idle_timeout_s``) and the frame/body size
(``max_frame_bytes``) are arguments of :func:`openenv_harness.server.create_app` because every deployment tunes
them. The limits here exist for hostile or broken clients and rarely need changing; they are grouped so
``create_app(..., limits=ServerLimits(...))`` and the command line can set them in one place:

* ``max_connections`` -- TCP connections the server holds at once (HTTP keep-alive, WebSocket, and connections
  that have not sent a request yet). Beyond it, connections with no request in flight are closed, those
  waiting longest first (WebSocket connections are bounded by ``max_sessions``).
* ``header_timeout_s`` -- a connection must deliver a complete request head this soon after it opens (or after
  its previous response); otherwise it is closed. This is what stops half-open and slow-header connections.
* ``body_timeout_s`` -- a request body must arrive in full this soon after the app starts reading it;
  otherwise ``408 REQUEST_TIMEOUT`` and the connection is closed.
* ``max_session_lifetime_s`` -- a session older than this is closed by the reaper between calls, however
  active it is, so no client can hold a slot forever (``<= 0`` turns it off).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

EXTRA_CONNECTIONS = 128
"""Connections allowed beyond ``max_sessions`` by default (HTTP calls, health checks, handshakes in flight)."""


@dataclass(frozen=True)
class ServerLimits:
    """Limits that hold against hostile clients (see the module docstring).

    Attributes:
        max_connections: Concurrent TCP connections (None: ``max_sessions + 128``).
        header_timeout_s: Seconds a connection may take to send a complete request head.
        body_timeout_s: Seconds a request body may take to arrive in full.
        max_session_lifetime_s: Seconds after which a session is closed however active (<= 0: no limit).
    """

    max_connections: int | None = None
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    max_session_lifetime_s: float = 24 * 3600.0

    def __post_init__(self) -> None:
        if self.max_connections is not None and self.max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {self.max_connections}")
        for name in ("header_timeout_s", "body_timeout_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")

    def resolved(self, max_sessions: int) -> ServerLimits:
        """These limits with ``max_connections`` filled in for a server of ``max_sessions`` sessions."""
        if self.max_connections is not None:
            return self
        return dataclasses.replace(self, max_connections=max_sessions + EXTRA_CONNECTIONS)


__all__ = ["EXTRA_CONNECTIONS", "ServerLimits"]

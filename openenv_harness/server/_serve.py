"""Run an app under uvicorn on a (possibly free) port, announcing the URL once it accepts connections."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import uvicorn

from ._limits import ServerLimits
from ._watchdog import ConnectionWatchdog

_MIN_WS_MAX_SIZE = 16 * 1024 * 1024


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """Bind a listening TCP socket (port 0 picks a free port; read it back with ``getsockname``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP (not 0): asyncio only sets TCP_NODELAY on accepted sockets whose proto says
    # TCP, and without it Nagle + delayed ACK stall every small HTTP response by ~40 ms. Set it here as well
    # (accepted sockets inherit it on Linux).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """``http://HOST:PORT`` of a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Server(uvicorn.Server):
    """uvicorn's server, with a callback once the sockets are listening and the connection watchdog."""

    def __init__(
        self,
        config: uvicorn.Config,
        on_listening: Callable[[], None] | None,
        limits: ServerLimits | None = None,
    ) -> None:
        super().__init__(config)
        self._on_listening = on_listening
        self._limits = limits
        self.watchdog: ConnectionWatchdog | None = None

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)
        # uvicorn re-raises a captured signal once shutdown is done, which turns a clean SIGTERM/SIGINT into a
        # KeyboardInterrupt traceback or a signal exit status; the graceful shutdown is the whole answer.
        self._captured_signals.clear()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        limits = self._limits
        if self.started and limits is not None and limits.max_connections is not None:
            self.watchdog = ConnectionWatchdog(
                self.server_state.connections, limits.header_timeout_s, limits.max_connections
            )
            self.watchdog.start()
        if self.started and self._on_listening is not None:
            self._on_listening()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.watchdog is not None:
            self.watchdog.stop()
        await super().shutdown(sockets)


def make_server(
    app: Any,
    *,
    log_level: str = "warning",
    on_listening: Callable[[], None] | None = None,
    **uvicorn_kwargs: Any,
) -> uvicorn.Server:
    """A configured uvicorn server for ``app`` (not started).

    The WebSocket transport limit (``ws_max_size``) is set to 4x the app's ``max_frame_bytes`` (at least 16
    MiB), so frames a little over the app's limit get a ``FRAME_TOO_LARGE`` error frame on an open
    connection; only frames beyond the transport limit make the library close with 1009. The access log is
    off (it costs more CPU per request than our whole step path), so is WebSocket compression; uvicorn installs
    its SIGINT/SIGTERM handlers when run on the main thread, and the app's lifespan closes every session on the
    way out.

    When the app carries :class:`ServerLimits` (``app.state.limits``, set by ``create_app``), a
    :class:`ConnectionWatchdog` closes connections that send no complete request head within
    ``header_timeout_s`` and, beyond ``max_connections``, those waiting longest for one. uvicorn's own
    ``limit_concurrency`` is not used: it answers 503 to the request that arrives while silent connections
    fill the cap -- the legitimate client, not the one holding sockets.
    """
    state = getattr(app, "state", None)
    frame_limit = getattr(state, "max_frame_bytes", 1 << 20)
    limits = getattr(state, "limits", None)
    limits = limits if isinstance(limits, ServerLimits) else None
    kwargs: dict[str, Any] = {
        "log_level": log_level,
        "access_log": False,
        "lifespan": "on",
        "ws_max_size": max(_MIN_WS_MAX_SIZE, 4 * frame_limit),
        "timeout_graceful_shutdown": 5,
        # permessage-deflate costs more CPU per frame than our whole step path and saves nothing on small JSON
        # frames over loopback; clients that offer it simply get uncompressed frames. Pass
        # ws_per_message_deflate=True to turn it back on (large text observations over a slow network).
        "ws_per_message_deflate": False,
    }
    kwargs.update(uvicorn_kwargs)
    return _Server(uvicorn.Config(app, **kwargs), on_listening, limits)


def serve(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    on_listening: Callable[[str], None] | None = None,
    log_level: str = "warning",
    **uvicorn_kwargs: Any,
) -> None:
    """Serve ``app`` on ``host:port`` until SIGINT/SIGTERM (blocks).

    Args:
        app: The ASGI app (usually from :func:`create_app`).
        host: Interface to bind (loopback by default).
        port: Port (0 picks a free one).
        on_listening: Called with ``http://HOST:PORT`` once the server accepts connections.
        log_level: uvicorn log level.
        **uvicorn_kwargs: Passed to ``uvicorn.Config``.
    """
    sock = bind_socket(host, port)
    url = url_of(sock)
    server = make_server(
        app,
        log_level=log_level,
        on_listening=(lambda: on_listening(url)) if on_listening is not None else None,
        **uvicorn_kwargs,
    )
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


__all__ = ["bind_socket", "make_server", "serve", "url_of"]

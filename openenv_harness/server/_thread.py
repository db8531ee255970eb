"""Run an app on a loopback port in a background thread (for tests, notebooks and in-process benchmarks)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from ._serve import bind_socket, make_server, url_of


@contextlib.contextmanager
def serve_in_thread(
    app: Any, host: str = "127.0.0.1", port: int = 0, startup_timeout_s: float = 10.0
) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a daemon thread; yields its ``http://HOST:PORT`` base URL.

    The server is started before the ``with`` body runs and shut down (lifespan included: every session is
    closed) when it exits. Signals are not handled in the thread; the caller's process keeps its own.

    Args:
        app: The ASGI app.
        host: Interface to bind.
        port: Port (0 picks a free one).
        startup_timeout_s: How long to wait for the server to accept connections.

    Raises:
        RuntimeError: if the server did not start in time (for example a failing lifespan hook).
    """
    sock = bind_socket(host, port)
    ready = threading.Event()
    server = make_server(app, on_listening=ready.set)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="openenv-server", daemon=True
    )
    thread.start()
    try:
        if not ready.wait(startup_timeout_s):
            server.should_exit = True
            raise RuntimeError(f"server did not start within {startup_timeout_s} s")
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


__all__ = ["serve_in_thread"]

"""One env server inside a Ray actor: the normal app (``create_app``) under uvicorn, in a thread of the actor.

The actor binds the address of the node it landed on as Ray knows it (``127.0.0.1`` on a loopback cluster,
the node's cluster address on a real one) unless told otherwise, picks a free port and reports its URL from
:meth:`EnvServerActor.start`. :meth:`EnvServerActor.watch` blocks until the server stops: the provider keeps
one ``watch`` call in flight per replica, so a replica whose process or node dies is noticed as soon as Ray
notices (that call fails with ``ActorDiedError``), without polling ``/health``.

The actor class is plain Python; :func:`actor_class` wraps it with ``ray.remote`` (threaded, so ``watch`` and
``stop`` can run beside each other) the first time Ray is used.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

_THREADS = 4
"""Concurrent actor calls: ``start``, a blocking ``watch``, ``stop`` and ``info``."""


class EnvServerActor:
    """Serve one environment type from a Ray worker process.

    Args:
        env: Registered environment id (or ``module:Class``).
        env_kwargs: Environment constructor arguments.
        max_sessions: Session cap of the server.
        idle_timeout_s: Idle-session reaper timeout.
        token: Orchestrator token the server requires for ``/config`` (an actor argument, never an
            environment variable of the Ray job, which Ray's state API would show).
        env_vars: Extra environment variables for the env code (e.g. a taskset's secrets), set in this
            worker process only.
        host: Interface to bind (None: this node's address as Ray knows it).
    """

    def __init__(
        self,
        env: str,
        env_kwargs: dict[str, Any] | None = None,
        max_sessions: int = 1024,
        idle_timeout_s: float = 300.0,
        token: str | None = None,
        env_vars: dict[str, str] | None = None,
        host: str | None = None,
    ) -> None:
        os.environ.update(env_vars or {})
        self.env = env
        self.env_kwargs = dict(env_kwargs or {})
        self.max_sessions = max_sessions
        self.idle_timeout_s = idle_timeout_s
        self.token = token
        self.host = host
        self.url = ""
        self._server: Any = None
        self._app: Any = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._lock = threading.Lock()

    def start(self, startup_timeout_s: float = 30.0) -> dict[str, Any]:
        """Build the app, serve it on a free port and return ``{url, node_id, node_ip, pid}`` (idempotent).

        Raises:
            RuntimeError: the server did not accept connections within ``startup_timeout_s``.
        """
        import ray

        with self._lock:
            if self._server is None:
                from openenv_harness.server import ServerLimits, bind_socket, create_app, make_server, url_of

                app = self._app = create_app(
                    self.env,
                    max_sessions=self.max_sessions,
                    idle_timeout_s=self.idle_timeout_s,
                    orchestrator_token=self.token,
                    env_kwargs=self.env_kwargs or None,
                    limits=ServerLimits(),
                )
                sock = bind_socket(self.host or ray.util.get_node_ip_address(), 0)
                ready = threading.Event()
                self._server = make_server(app, on_listening=ready.set)
                self._thread = threading.Thread(
                    target=self._serve, args=(sock,), name="openenv-ray-server", daemon=True
                )
                self._thread.start()
                if not ready.wait(startup_timeout_s):
                    self._server.should_exit = True
                    raise RuntimeError(f"env server {self.env} did not start within {startup_timeout_s} s")
                self.url = url_of(sock)
        ctx = ray.get_runtime_context()
        return {"url": self.url, "node_id": ctx.get_node_id(), "node_ip": _node_ip(), "pid": os.getpid()}

    def _serve(self, sock: Any) -> None:
        try:
            self._server.run(sockets=[sock])
        finally:
            with contextlib.suppress(OSError):
                sock.close()
            self._stopped.set()

    def watch(self) -> str:
        """Block until the server stops; returns why (an actor that dies fails this call instead)."""
        self._stopped.wait()
        return f"env server {self.url} stopped"

    def sessions(self) -> int:
        """Sessions the server holds now."""
        return 0 if self._app is None else len(self._app.state.sessions)

    def stop(self) -> None:
        """Graceful shutdown: every session is closed, then the server thread ends (idempotent)."""
        server = self._server
        if server is not None:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


def _node_ip() -> str:
    import ray

    return str(ray.util.get_node_ip_address())


def actor_class(ray: Any) -> Any:
    """:class:`EnvServerActor` as a Ray actor class (threaded; no automatic restarts: the provider replaces)."""
    return ray.remote(max_concurrency=_THREADS, max_restarts=0)(EnvServerActor)

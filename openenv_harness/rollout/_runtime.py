"""Env servers for a run: started by the configured provider, a session pool, always stopped at the end.

:class:`EnvRuntime` is a context manager: it starts the provider's servers (default: local processes on
loopback, so the real wire path is exercised), owns a background event loop with a pool of async env
sessions for concurrent rollouts, and on exit (normal, exception or Ctrl-C) closes the sessions and stops
every server it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

from ..config import RuntimeConfig, ServerConfig

T = TypeVar("T")


class LoopThread:
    """An asyncio loop on a daemon thread; :meth:`run` executes a coroutine there and waits for it.

    Env clients are bound to the loop they connected on, so every pool operation runs on this one loop
    (GRPO reward functions, rollouts and evals alike), whatever thread asks.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="harness-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        """Run ``coro`` on the loop and return its result (re-raising its exception)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def close(self) -> None:
        """Stop the loop and join the thread."""
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        with contextlib.suppress(RuntimeError):
            self.loop.close()


def make_provider(
    runtime: RuntimeConfig | Any, env_id: str, env_kwargs: dict[str, Any], server: Any = None
) -> Any:
    """Build (not start) the provider ``runtime.provider`` names, through the runtime package's factory.

    Each kind gets the arguments it takes: ``local``/``docker`` start ``runtime.num_servers`` servers of
    ``env_id``; ``inprocess`` builds the env in this process; ``remote`` uses ``runtime.urls``.

    Raises:
        ValueError: unknown provider, or ``remote`` without URLs (naming the field).
    """
    from openenv_harness.runtime import make_provider as factory

    kind = str(runtime.provider)
    options = dict(runtime.options or {})
    max_sessions = int(getattr(server, "max_sessions", 1024) or 1024) if server is not None else 1024
    if kind == "inprocess":
        return factory(kind, env=env_id, env_kwargs=env_kwargs, **options)
    if kind == "remote":
        if not runtime.urls:
            raise ValueError("runtime.provider=remote needs runtime.urls=[http://HOST:PORT,...]")
        return factory(
            kind,
            urls=list(runtime.urls),
            token=runtime.token,
            env_id=env_id,
            startup_timeout_s=runtime.startup_timeout_s,
            **options,
        )
    return factory(
        kind,
        env=env_id,
        n_servers=runtime.num_servers,
        env_kwargs=env_kwargs,
        token=runtime.token,
        startup_timeout_s=runtime.startup_timeout_s,
        max_sessions=max(max_sessions, runtime.sessions),
        **options,
    )


class EnvRuntime:
    """Servers + session pool of one run.

    Args:
        runtime: The ``runtime`` config.
        env_id: Environment id.
        env_kwargs: Environment constructor arguments.
        server: The ``server`` config (session cap).
    """

    def __init__(
        self,
        runtime: RuntimeConfig | Any,
        env_id: str,
        env_kwargs: dict[str, Any],
        server: ServerConfig | Any = None,
    ) -> None:
        self.cfg = runtime
        self.env_id = env_id
        self.provider = make_provider(runtime, env_id, env_kwargs, server)
        self.loop = LoopThread()
        self.size = max(1, int(runtime.sessions))
        self._free: asyncio.Queue[Any] | None = None
        self._clients: list[Any] = []
        self.pushes: list[dict[str, Any]] = []

    def __enter__(self) -> EnvRuntime:
        try:
            self.provider.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every session, stop every server and the loop (idempotent, never raises)."""
        if self._clients and not self.loop.loop.is_closed():
            with contextlib.suppress(Exception):
                self.loop.run(self._close_clients(), timeout_s=15)
        with contextlib.suppress(Exception):
            self.provider.stop()
        self.loop.close()

    async def _close_clients(self) -> None:
        await asyncio.gather(*(c.close() for c in self._clients), return_exceptions=True)
        self._clients.clear()

    @property
    def urls(self) -> list[str]:
        """Base URLs of the env servers (empty for an in-process provider)."""
        return list(self.provider.urls)

    # -- pool ---------------------------------------------------------------------------------------------

    async def pool(self) -> asyncio.Queue[Any]:
        """The queue of idle sessions (created on first use, on the runtime loop)."""
        if self._free is None:
            self._free = asyncio.Queue()
            for _ in range(self.size):
                client = self.provider.async_client(request_timeout_s=self.cfg.step_timeout_s + 30)
                self._clients.append(client)
                self._free.put_nowait(client)
        return self._free

    async def with_session(self, fn: Any) -> Any:
        """Run ``await fn(client)`` with a session from the pool (waits when all are busy)."""
        free = await self.pool()
        client = await free.get()
        try:
            return await fn(client)
        finally:
            free.put_nowait(client)

    def run(self, coro: Awaitable[T] | Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the runtime's loop."""
        return self.loop.run(coro)  # type: ignore[arg-type]

    # -- control ------------------------------------------------------------------------------------------

    def push_config(self, update: dict[str, Any]) -> list[dict[str, Any]]:
        """``POST /config`` to every server; returns each server's snapshot and remembers the push."""
        snaps: list[dict[str, Any]] = list(self.provider.push_config(update))
        self.pushes.append({"update": update, "versions": [s.get("config_version") for s in snaps]})
        return snaps

    def get_config(self) -> list[dict[str, Any]]:
        """Every server's ``GET /config``."""
        return list(self.provider.get_config())

    def schema(self) -> dict[str, Any]:
        """The env's ``/schema`` (from the first server, or the class for in-process providers)."""
        env_class = getattr(self.provider, "env_class", None)
        if env_class is not None:
            return dict(env_class.schemas())
        from ..client import ControlAPI

        api = ControlAPI(self.urls[0], token=self.cfg.token)
        try:
            return api.schema()
        finally:
            api.close()

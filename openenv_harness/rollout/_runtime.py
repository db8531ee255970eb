"""Env servers for a run: started by the configured provider, a session pool, always stopped at the end.

:class:`EnvRuntime` is a context manager: it starts the provider's servers (default: local processes on
loopback, so the real wire path is exercised), owns a background event loop with a pool of async env
sessions for concurrent rollouts, and on exit (normal, exception or Ctrl-C) closes the sessions and stops
every server it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

from ..config import RuntimeConfig, ServerConfig
from ..spec import EnvError, ErrorCode
from ._foreign import SEEDS_HONOURED, ServerInfo, is_registered, probe_server, seed_behaviour

T = TypeVar("T")
log = logging.getLogger(__name__)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The rollout loop: uvloop's when installed (it halves the loop's own cost per turn), else asyncio's.

    ``OPENENV_HARNESS_LOOP=asyncio`` forces the standard loop (for comparisons and debugging).
    """
    if os.environ.get("OPENENV_HARNESS_LOOP", "uvloop") != "asyncio":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


class LoopThread:
    """An asyncio loop on a daemon thread; :meth:`run` executes a coroutine there and waits for it.

    Env clients are bound to the loop they connected on, so every pool operation runs on this one loop
    (GRPO reward functions, rollouts and evals alike), whatever thread asks.
    """

    def __init__(self) -> None:
        self.loop = new_event_loop()
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
    ``env_id``; ``inprocess`` builds the env in this process; ``remote`` uses ``runtime.urls``; ``ray``
    starts replicas as Ray actors (:func:`ray_kwargs`).

    Raises:
        ValueError: unknown provider, or ``remote`` without URLs (naming the field).
    """
    from openenv_harness.runtime import make_provider as factory

    kind = str(runtime.provider)
    options = dict(runtime.options or {})
    max_sessions = int(getattr(server, "max_sessions", 1024) or 1024) if server is not None else 1024
    if kind == "inprocess":
        return factory(kind, env=env_id, env_kwargs=env_kwargs, **options)
    if kind == "ray":
        return factory(kind, **ray_kwargs(runtime, env_id, env_kwargs, max_sessions), **options)
    if kind == "remote":
        if not runtime.urls:
            raise ValueError("runtime.provider=remote needs runtime.urls=[http://HOST:PORT,...]")
        return factory(
            kind,
            urls=list(runtime.urls),
            token=runtime.token,
            env_id=env_id if is_registered(env_id) else None,  # a foreign env: untyped clients
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


def ray_kwargs(runtime: Any, env_id: str, env_kwargs: dict[str, Any], max_sessions: int) -> dict[str, Any]:
    """``RayProvider`` arguments from the ``runtime`` config.

    Replicas: ``runtime.replicas``, else ``ceil(runtime.sessions / runtime.sessions_per_replica)``, else
    ``runtime.num_servers``. CPU and memory per replica: ``runtime.cpus_per_replica`` /
    ``memory_per_replica``, else the taskset manifest's ``resources`` (``runtime.target.limits``), else one
    CPU and no memory reservation.
    """
    from openenv_harness.runtime._ray import replica_count

    limits = dict((getattr(runtime, "target", None) or {}).get("limits") or {})
    cpus = getattr(runtime, "cpus_per_replica", None)
    memory = getattr(runtime, "memory_per_replica", None) or limits.get("mem_limit")
    sessions = int(runtime.sessions)
    return {
        "env": env_id,
        "replicas": replica_count(
            getattr(runtime, "replicas", None),
            int(runtime.num_servers),
            sessions,
            int(getattr(runtime, "sessions_per_replica", 0) or 0),
        ),
        "env_kwargs": env_kwargs,
        "token": runtime.token,
        "startup_timeout_s": runtime.startup_timeout_s,
        "max_sessions": max(max_sessions, sessions),
        "address": getattr(runtime, "address", None),
        "num_cpus": float(cpus if cpus is not None else limits.get("cpus", 1.0)),
        "memory": memory,
        "resources": dict(getattr(runtime, "replica_resources", None) or {}),
    }


class EnvRuntime:
    """Servers + session pool of one run.

    With remote servers (or servers of an env this process does not import: a taskset's package venv or
    foreign image), :meth:`__enter__` also asks each one about itself (:attr:`servers`: name, version,
    ``/config``, advertised cap) and opens the session pool at once, one session at a time, so a server
    that holds fewer sessions than ``runtime.sessions`` (OpenEnv apps default to one and answer
    ``CAPACITY_REACHED``) shrinks the pool to what it accepts, with a warning, instead of failing episodes.
    :meth:`push_config` skips servers that serve no ``/config`` (with a warning naming them).

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
        self.remote = str(runtime.provider) == "remote"
        self.foreign = not is_registered(env_id)
        # Servers whose code this process does not know (remote ones, a taskset's package venv or foreign
        # image) are asked about themselves and their capacity before the pool is opened.
        self.probed = self.remote or self.foreign
        self.servers: list[ServerInfo] = []
        self._warned_config = False

    def __enter__(self) -> EnvRuntime:
        try:
            self.provider.start()
            if self.probed:
                self.servers = [probe_server(u, self.cfg.token) for u in self.urls]
                caps = [s.max_sessions for s in self.servers]
                if all(c is not None for c in caps):
                    self.size = max(1, min(self.size, sum(c for c in caps if c is not None)))
                self.run(self.pool())  # opened now: the pool's real size is known before any wave
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
            free: asyncio.Queue[Any] = asyncio.Queue()
            for _ in range(self.size):
                client = self.provider.async_client(request_timeout_s=self.cfg.step_timeout_s + 30)
                if self.probed and not await self._opened(client):
                    break
                self._clients.append(client)
                free.put_nowait(client)
            if not self._clients:
                raise EnvError(
                    ErrorCode.CAPACITY,
                    f"no env session could be opened on {', '.join(self.urls)}: every server is at capacity",
                )
            if len(self._clients) < self.size:
                log.warning(
                    "env servers %s accept only %d concurrent sessions (runtime.sessions=%d): the pool uses %d",
                    ", ".join(self.urls),
                    len(self._clients),
                    self.size,
                    len(self._clients),
                )
                self.size = len(self._clients)
            self._free = free
        return self._free

    @staticmethod
    async def _opened(client: Any) -> bool:
        """Open a session now; False when the server answers ``CAPACITY`` (other errors propagate).

        A reset, because OpenEnv creates the session on connect and our client connects on the first reset.
        """
        try:
            await client.reset()
        except EnvError as exc:
            if exc.code == ErrorCode.CAPACITY:
                await client.close()
                return False
            raise
        return True

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

    @property
    def serves_config(self) -> bool:
        """Whether every server serves ``/config`` (servers we start always do)."""
        return not self.probed or all(s.config for s in self.servers)

    def push_config(self, update: dict[str, Any]) -> list[dict[str, Any]]:
        """``POST /config`` to every server; returns each server's snapshot and remembers the push.

        A server without ``/config`` (a plain OpenEnv app) gets nothing: the update is skipped with one
        warning naming the servers, and an empty list is returned.
        """
        if not self.serves_config:
            if not self._warned_config:
                missing = [s.url for s in self.servers if not s.config]
                log.warning(
                    "env servers %s serve no /config: reward config and schedule updates (%s) are NOT applied",
                    ", ".join(missing),
                    ", ".join(sorted(update)) or "none",
                )
                self._warned_config = True
            return []
        snaps: list[dict[str, Any]] = list(self.provider.push_config(update))
        self.pushes.append({"update": update, "versions": [s.get("config_version") for s in snaps]})
        return snaps

    def get_config(self) -> list[dict[str, Any]]:
        """Every server's ``GET /config``."""
        return list(self.provider.get_config())

    def check_seeds(self, seed: int, reset_kwargs: dict[str, Any]) -> str:
        """Whether the env honours seeds (``honoured``, ``ignored``, ``not_reproducible``), probed in one session.

        See :func:`~openenv_harness.rollout._foreign.seed_behaviour`; a result other than ``honoured`` is
        logged as a warning naming the env.
        """
        declared = all(s.supports_seed for s in self.servers) if self.servers else True

        async def go(client: Any) -> str:
            return await seed_behaviour(client, seed, reset_kwargs, declared=declared)

        result: str = self.run(self.with_session(go))
        if result != SEEDS_HONOURED:
            log.warning(
                "env %r does not honour seeds (%s): the same seed is not the same task; results are not "
                "reproducible and GRPO groups do not share a task",
                self.env_id,
                result,
            )
        return result

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

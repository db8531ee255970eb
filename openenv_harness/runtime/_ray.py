"""Env servers as Ray actors spread over a cluster's nodes (``runtime=ray``).

Each replica is one :class:`~openenv_harness.runtime._ray_actor.EnvServerActor`: the normal app under uvicorn
on its node's address (127.0.0.1 on a loopback cluster), port chosen by the actor, URL reported back. Clients
talk WebSocket to the replicas directly; Ray only places, watches and replaces them.

* **Placement.** Each replica asks for ``num_cpus``, ``memory`` and custom ``resources`` (from
  ``runtime.cpus_per_replica``/``memory_per_replica``/``replica_resources``, else the taskset manifest's
  ``resources``); replicas are spread over nodes (Ray's ``SPREAD`` strategy) by default.
* **Sessions** go to the least-loaded live replica (sessions handed out by this provider, ties by index);
  a client that reconnects after losing its connection moves to another replica when there is one.
* **Config.** :meth:`RayProvider.push_config` reaches every live replica; the pushes are remembered and
  replayed, in order, to a replacement before it takes sessions, so it reports the same ``config_version``.
* **Failures.** A monitor thread keeps one ``watch`` call in flight per replica; when it fails (the actor's
  process or node died) the replica leaves the pool and a replacement is started wherever Ray finds room.
  Episodes the dead replica held end as ``CONNECTION_LOST`` errors (evals retry them once, see
  :mod:`openenv_harness.evals`); nothing is migrated.
* **Ray itself**: see :mod:`openenv_harness.runtime._ray_boot` (local instance by default, ``address=auto`` or
  ``HOST:PORT`` joins; kept on loopback). Actors are owned by this process's Ray job, so they go away with it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Mapping
from typing import Any

from ..client import AsyncEnvClient, EnvClient
from ..spec import EnvError, ErrorCode
from . import _ray_boot as boot
from ._local import _check_env_vars
from ._provider import Provider, track_live
from ._ray_health import RayPlacementError, check_fits, describe_pending
from ._ray_pool import Replica, Seat, SeatTable
from ._remote import wait_http_healthy

log = logging.getLogger(__name__)


def replica_count(replicas: int | None, num_servers: int, sessions: int, sessions_per_replica: int) -> int:
    """Replicas of a run: ``replicas`` if set, else ``ceil(sessions / sessions_per_replica)``, else ``num_servers``."""
    if replicas is not None:
        if int(replicas) < 1:
            raise ValueError(f"runtime.replicas must be >= 1, got {replicas}")
        return int(replicas)
    if sessions_per_replica and int(sessions_per_replica) > 0:
        return max(1, -(-int(sessions) // int(sessions_per_replica)))
    return max(1, int(num_servers))


class RayProvider(Provider):
    """``replicas`` env servers of ``env`` as Ray actors.

    Args:
        env: Registered environment id.
        replicas: Number of server actors.
        env_kwargs: Environment constructor arguments.
        max_sessions: Session cap per replica.
        idle_timeout_s: Idle-session reaper timeout per replica.
        token: Orchestrator token the replicas require for ``/config``.
        address: None (start a local Ray instance), ``auto`` or ``HOST:PORT`` (join a cluster).
        num_cpus: CPUs Ray reserves per replica.
        memory: Memory Ray reserves per replica, bytes or ``512m``/``2g`` (None: no reservation).
        resources: Custom Ray resources per replica (e.g. ``{"env_host": 1}`` to pin replicas to nodes
            that advertise it).
        scheduling_strategy: Ray scheduling strategy (``SPREAD``: one node after another; ``DEFAULT``).
        host: Interface the replicas bind (None: their node's address as Ray knows it).
        startup_timeout_s: Time for every replica to be placed and serving.
        replace_dead: Start a replacement for a replica that died.
        env_vars: Extra environment variables for the env code (set in the replicas' processes).
        loopback: Keep Ray on 127.0.0.1 (None: for a local instance and loopback addresses).
        ray_init: Extra ``ray.init`` arguments.
        namespace: Ray namespace of the job.

    Raises:
        ValueError: a bad count, resource or variable (the message names it).
        ConfigError: Ray is not installed (one line naming the ``ray`` extra).
    """

    def __init__(
        self,
        env: str,
        replicas: int = 1,
        env_kwargs: dict[str, Any] | None = None,
        max_sessions: int = 1024,
        idle_timeout_s: float = 300.0,
        token: str | None = None,
        address: str | None = None,
        num_cpus: float = 1.0,
        memory: int | str | None = None,
        resources: Mapping[str, float] | None = None,
        scheduling_strategy: str = "SPREAD",
        host: str | None = None,
        startup_timeout_s: float = 60.0,
        replace_dead: bool = True,
        env_vars: Mapping[str, str] | None = None,
        loopback: bool | None = None,
        ray_init: Mapping[str, Any] | None = None,
        namespace: str | None = None,
    ) -> None:
        super().__init__(env_id=env, token=token)
        boot.require_ray()
        if int(replicas) < 1:
            raise ValueError(f"replicas must be >= 1, got {replicas}")
        if float(num_cpus) < 0:
            raise ValueError(f"num_cpus (runtime.cpus_per_replica) must be >= 0, got {num_cpus}")
        self.env = env
        self.n_replicas = int(replicas)
        self.env_kwargs = dict(env_kwargs or {})
        self.max_sessions = max_sessions
        self.idle_timeout_s = idle_timeout_s
        self.address = address
        self.num_cpus = float(num_cpus)
        self.memory = _memory_bytes(memory)
        self.resources = {str(k): float(v) for k, v in (resources or {}).items()}
        self.scheduling_strategy = scheduling_strategy
        self.host = host
        self.startup_timeout_s = startup_timeout_s
        self.replace_dead = replace_dead
        self.loopback = loopback
        self.ray_init = dict(ray_init or {})
        self.namespace = namespace
        self._env_vars = _check_env_vars(env_vars)  # values may be secrets: never in a message
        self._seats = SeatTable()
        self._pushes: list[tuple[dict[str, Any], str | None]] = []
        self._push_lock = threading.Lock()
        self._monitor: threading.Thread | None = None
        self._stopping = threading.Event()
        self._ray: boot.Lease | None = None  # this provider's share of a connection a provider made
        self._actor_cls: Any = None
        self.restarts = 0
        """Replicas that went live in place of dead ones (run records count them as server restarts)."""

    # -- actors ---------------------------------------------------------------------------------------------

    def _options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {"num_cpus": self.num_cpus, "scheduling_strategy": self.scheduling_strategy}
        if self.memory:
            opts["memory"] = self.memory
        if self.resources:
            opts["resources"] = dict(self.resources)
        return opts

    def _spawn(self, index: int) -> Replica:
        actor = self._actor_cls.options(**self._options()).remote(
            self.env,
            self.env_kwargs,
            self.max_sessions,
            self.idle_timeout_s,
            self.token,
            self._env_vars,
            self.host,
        )
        return Replica(index=index, actor=actor, start_ref=actor.start.remote(self.startup_timeout_s))

    def _go_live(self, replica: Replica, info: dict[str, Any]) -> None:
        replica.url, replica.node_id = str(info["url"]), str(info["node_id"])
        replica.pid = int(info["pid"])
        replica.start_ref = None
        replica.watch_ref = replica.actor.watch.remote()
        self._seats.go_live(replica)
        self._urls = self._seats.urls()

    # -- life cycle -----------------------------------------------------------------------------------------

    def start(self) -> list[str]:
        """Connect to Ray, place the replicas, wait until each serves, and start watching them.

        Raises:
            RayPlacementError: replicas could not be placed in time (the message names what they need and
                what the cluster has); everything started so far has been stopped.
            RuntimeError: a replica failed to start (its error is quoted).
        """
        if self._seats.replicas:
            return self.urls
        ray = boot.import_ray()
        self._ray = boot.connect(
            self.address, loopback=self.loopback, namespace=self.namespace, init_kwargs=self.ray_init
        )
        from ._ray_actor import actor_class

        self._actor_cls = actor_class(ray)
        self._stopping.clear()
        track_live(self, True)
        try:
            if self._ray is not None and self._ray.local:  # a local instance of ours
                check_fits(ray, self.n_replicas, self._options())
            replicas = [self._spawn(i) for i in range(self.n_replicas)]
            self._seats.replicas = replicas
            refs = [r.start_ref for r in replicas]
            ready, pending = ray.wait(refs, num_returns=len(refs), timeout=self.startup_timeout_s)
            if pending:
                raise RayPlacementError(
                    describe_pending(ray, len(pending), len(refs), self._options(), self.startup_timeout_s)
                )
            for replica in replicas:
                try:
                    info = ray.get(replica.start_ref)
                except Exception as exc:
                    raise RuntimeError(
                        f"Ray env replica {replica.index} ({self.env}) failed to start: {exc}"
                    ) from None
                self._go_live(replica, info)
            self.wait_healthy(self.startup_timeout_s)
            self._monitor = threading.Thread(target=self._watch_loop, name="ray-replicas", daemon=True)
            self._monitor.start()
        except BaseException:
            self.stop()
            raise
        for r in self._seats.live():
            log.info("ray: %s replica %d serving at %s on node %s", self.env, r.index, r.url, r.node_id)
        return self.urls

    def wait_healthy(self, timeout_s: float = 30.0) -> None:
        """Block until every live replica answers ``GET /health``."""
        wait_http_healthy(self.urls, timeout_s, what="Ray env replicas")

    def stop(self) -> None:
        """Stop watching, shut every replica down (gracefully, then ``ray.kill``) and leave Ray (idempotent)."""
        self._stopping.set()
        monitor, self._monitor = self._monitor, None
        if monitor is not None and monitor is not threading.current_thread():
            monitor.join(timeout=5)
        replicas = self._seats.clear()
        self._urls = []
        self._close_controls()
        import ray

        if (
            replicas and ray.is_initialized()
        ):  # (at interpreter exit Ray's own atexit hook may have run first)
            stops = [r.actor.stop.remote() for r in replicas if r.state == "live"]
            if stops:
                ray.wait(stops, num_returns=len(stops), timeout=5)
            for r in replicas:
                with contextlib.suppress(Exception):  # already dead with its node
                    ray.kill(r.actor)
        if self._ray is not None:
            self._ray.close()
            self._ray = None
        track_live(self, False)

    # -- failures -------------------------------------------------------------------------------------------

    def _watch_loop(self) -> None:
        import ray

        while not self._stopping.is_set():
            refs = self._seats.refs()
            if not refs:
                self._stopping.wait(0.2)
                continue
            try:
                ready, _ = ray.wait(list(refs), num_returns=1, timeout=0.5)
            except Exception:  # Ray going down under us (stop or driver exit)
                if self._stopping.wait(0.2):
                    return
                continue
            for ref in ready:
                replica, kind = refs[ref]
                if kind == "watch":
                    self._on_exit(ray, replica, ref)
                else:
                    self._on_started(ray, replica, ref)

    def _on_exit(self, ray: Any, replica: Replica, ref: Any) -> None:
        try:
            reason = str(ray.get(ref))
        except Exception as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if isinstance(exc, ray.exceptions.ActorUnavailableError) and _answers(ray, replica.actor):
                replica.watch_ref = replica.actor.watch.remote()  # a blip: it is still serving
                return
        if self._stopping.is_set():
            return
        log.warning(
            "ray: env replica %d (%s on node %s) is gone: %s",
            replica.index,
            replica.url,
            replica.node_id,
            reason,
        )
        self._seats.go_dead(replica)
        self._urls = self._seats.urls()
        with contextlib.suppress(Exception):
            ray.kill(replica.actor)
        if self.replace_dead:
            fresh = self._spawn(replica.index)
            fresh.restarts = replica.restarts + 1
            self._seats.replace(fresh)

    def _on_started(self, ray: Any, replica: Replica, ref: Any) -> None:
        try:
            info = ray.get(ref)
        except Exception as exc:
            log.error("ray: replacement for env replica %d failed to start: %s", replica.index, exc)
            if not self._stopping.is_set() and replica.restarts < 5:
                fresh = self._spawn(replica.index)
                fresh.restarts = replica.restarts + 1
                self._seats.replace(fresh)
            return
        with self._push_lock:  # no push may slip in between the replay and the replica taking sessions
            try:
                self._replay(str(info["url"]))
            except Exception as exc:
                log.error("ray: replaying the reward config on %s failed: %s", info["url"], exc)
            self._go_live(replica, info)
        self.restarts += 1
        log.warning(
            "ray: env replica %d replaced: %s on node %s", replica.index, replica.url, replica.node_id
        )

    def _replay(self, url: str) -> None:
        from ..client import ControlAPI

        if not self._pushes:
            return
        api = ControlAPI(url, token=self.token)
        try:
            for update, token in self._pushes:
                api.push_config(update, token=token or self.token)
        finally:
            api.close()

    # -- sessions and config --------------------------------------------------------------------------------

    def pick_url(self) -> str:
        """The least-loaded live replica (waits up to ``startup_timeout_s`` for one when none is live)."""
        return self._seats.least_loaded(None, self._deadline()).url

    def _deadline(self) -> float:
        return time.monotonic() + self.startup_timeout_s

    def _seat_url(self, seat: Seat) -> str:
        if self._stopping.is_set() and not self._seats.replicas:
            raise EnvError(ErrorCode.CONNECTION_LOST, "RayProvider was stopped")
        return self._seats.take(seat, self._deadline())

    def _seated(self, cls: type[Any], kwargs: dict[str, Any]) -> Any:
        seat = Seat()
        url = self._seat_url(seat)
        options = self._client_kwargs(kwargs)
        options["reconnect_url"] = lambda: self._seat_url(seat)
        client = cls(url, **options)
        weakref.finalize(client, self._seats.release, seat)
        return client

    def client(self, **kwargs: Any) -> Any:
        """A sync client on the least-loaded replica (a reconnect moves it to another replica)."""
        return self._seated(EnvClient, kwargs)

    def async_client(self, **kwargs: Any) -> Any:
        """An async client on the least-loaded replica (a reconnect moves it to another replica)."""
        return self._seated(AsyncEnvClient, kwargs)

    def push_config(self, update: dict[str, Any], token: str | None = None) -> list[dict[str, Any]]:
        """``POST /config`` to every live replica; remembered and replayed to replacements.

        A replica that dies during the push is skipped (its replacement gets the replay).

        Raises:
            EnvError: a live replica's error (e.g. ``CONFIG_INVALID``: every replica refuses alike).
        """
        with self._push_lock:
            live = self._seats.live()
            apis, _ = self._control_apis([r.url for r in live])
            snaps = []
            for replica, api in zip(live, apis, strict=True):
                try:
                    snaps.append(api.push_config(update, token=token or self.token))
                except EnvError as exc:
                    if exc.code != ErrorCode.CONNECTION_LOST or not self._seats.wait_gone(replica, 10.0):
                        raise
            self._pushes.append((dict(update), token))
        return snaps

    # -- introspection --------------------------------------------------------------------------------------

    def placements(self) -> list[dict[str, Any]]:
        """Each replica: ``index``, ``state`` (starting/live/dead), ``url``, ``node_id``, ``sessions``, ``restarts``."""
        return self._seats.describe()


def _answers(ray: Any, actor: Any, timeout_s: float = 3.0) -> bool:
    """Whether an actor Ray called unavailable still answers (a network blip, not a death)."""
    try:
        ray.get(actor.sessions.remote(), timeout=timeout_s)
    except Exception:
        return False
    return True


def _memory_bytes(memory: int | str | None) -> int | None:
    if memory is None or memory == "" or memory == 0:
        return None
    if isinstance(memory, int | float):
        return int(memory)
    from ..tasks._manifest import parse_memory

    try:
        return int(parse_memory(memory))
    except ValueError as exc:
        raise ValueError(f"memory (runtime.memory_per_replica) {memory!r}: {exc}") from None

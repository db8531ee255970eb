"""The one interface every provider implements: something that gives you running env servers and clients.

A provider owns the servers' life cycle (:meth:`Provider.start`, :meth:`Provider.stop`,
:meth:`Provider.wait_healthy`) and hands out clients whose sessions spread round-robin across its servers.
``push_config`` reaches every server at once, so a pool is re-weighted together; each server applies the new
config at each of its sessions' next reset. The provider keeps one :class:`~openenv_harness.client.ControlAPI`
(a keep-alive HTTP pool) per server URL for its whole life: a push is then a few loopback round trips, not a
new client per server per push.
"""

from __future__ import annotations

import atexit
import copy
import itertools
import threading
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ..client import AsyncEnvClient, ControlAPI, EnvClient, env_types
from ..spec import EnvError, ErrorCode
from ..spec._config import _deep_merge as deep_merge  # exactly how POST /config merges a partial update

_T = TypeVar("_T")

TOKEN_VAR = "OPENENV_HARNESS_TOKEN"
"""Environment variable through which providers hand a server its orchestrator token (never argv)."""

_live: weakref.WeakSet[Provider] = weakref.WeakSet()
_live_lock = threading.Lock()


def track_live(provider: Provider, live: bool) -> None:
    """Register (or forget) a provider whose servers must be stopped at interpreter exit."""
    with _live_lock:
        if live:
            _live.add(provider)
        else:
            _live.discard(provider)


@atexit.register
def stop_live_providers() -> None:
    """Stop every provider that still has servers running (also run at interpreter exit)."""
    with _live_lock:
        providers = list(_live)
    for provider in providers:
        provider.stop()


class Provider(ABC):
    """Base class of providers.

    Subclasses implement :meth:`start`, :meth:`stop` and :meth:`wait_healthy`, keep :attr:`urls` current and
    may override :meth:`pick_url` (e.g. to restart a crashed server first). ``env_id`` (a registered id or
    None) types the clients it hands out.

    Args:
        env_id: Registered environment id used to type clients (None: generic action/observation).
        token: Orchestrator token for :meth:`push_config` and :meth:`get_config`.
    """

    def __init__(self, env_id: str | None = None, token: str | None = None) -> None:
        self.env_id = env_id
        self.token = token
        self._urls: list[str] = []
        self._rr = itertools.count()
        self._rr_lock = threading.Lock()
        self._controls: dict[str, ControlAPI] = {}
        self._control_pool: ThreadPoolExecutor | None = None  # threads for concurrent pushes, kept too
        self._controls_lock = threading.Lock()
        self._config_sent: dict[str, Any] = {}

    # -- life cycle (subclasses) ----------------------------------------------------------------------------

    @abstractmethod
    def start(self) -> list[str]:
        """Start the servers (idempotent) and wait until they are healthy.

        Returns:
            Their base URLs (empty for an in-process provider). Stops everything it started on failure.
        """

    @abstractmethod
    def stop(self) -> None:
        """Stop every server (idempotent; never raises for servers that are already gone)."""

    @abstractmethod
    def wait_healthy(self, timeout_s: float = 30.0) -> None:
        """Block until every server answers ``/health``.

        Raises:
            RuntimeError: a server died or stayed unhealthy past ``timeout_s`` (the message says which).
        """

    # -- shared behaviour -----------------------------------------------------------------------------------

    @property
    def urls(self) -> list[str]:
        """Base URLs of the running servers (empty when stopped or in-process)."""
        return list(self._urls)

    def pick_url(self) -> str:
        """The next server, round-robin (called for every new client and every reconnect)."""
        urls = self._urls
        if not urls:
            raise EnvError(
                ErrorCode.CONNECTION_LOST,
                f"{type(self).__name__} has no running server: call start() or use it as a context manager",
            )
        with self._rr_lock:
            return urls[next(self._rr) % len(urls)]

    def _client_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        typed = env_types(self.env_id) if self.env_id is not None else {}
        out = {**typed, "token": self.token, "reconnect_url": self.pick_url}
        out.update(kwargs)
        return out

    def client(self, **kwargs: Any) -> Any:
        """A sync :class:`~openenv_harness.client.EnvClient` on the next server (reconnects round-robin too).

        Args:
            **kwargs: Client arguments (``request_timeout_s``, ``observation_type``...).
        """
        return EnvClient(self.pick_url(), **self._client_kwargs(kwargs))

    def async_client(self, **kwargs: Any) -> Any:
        """An :class:`~openenv_harness.client.AsyncEnvClient` on the next server."""
        return AsyncEnvClient(self.pick_url(), **self._client_kwargs(kwargs))

    def _control_apis(self, urls: list[str]) -> tuple[list[ControlAPI], ThreadPoolExecutor | None]:
        """The long-lived control client of each URL and the push threads (created on first use).

        Clients of URLs no longer served (a server restarted on a new port) are closed here.
        """
        with self._controls_lock:
            stale = [self._controls.pop(u) for u in list(self._controls) if u not in urls]
            apis = []
            for url in urls:
                api = self._controls.get(url)
                if api is None:
                    api = self._controls[url] = ControlAPI(url, token=self.token)
                apis.append(api)
            if len(urls) > 1 and self._control_pool is None:
                self._control_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="provider-config")
            pool = self._control_pool
        for api in stale:
            api.close()
        return apis, pool

    def _drop_control(self, url: str) -> None:
        """Close the kept control client of ``url`` (its keep-alive connection died with a crashed server)."""
        with self._controls_lock:
            api = self._controls.pop(url, None)
        if api is not None:
            api.close()

    def _close_controls(self) -> None:
        """Close every kept control client and the push threads (subclasses call this from :meth:`stop`).

        Idempotent; the next push after a restart creates them again.
        """
        with self._controls_lock:
            apis, self._controls = list(self._controls.values()), {}
            pool, self._control_pool = self._control_pool, None
        if pool is not None:
            pool.shutdown(wait=False)  # idle threads exit; a push in flight still finishes
        for api in apis:
            api.close()

    def _each_server(self, call: Callable[[ControlAPI], _T]) -> list[_T]:
        urls = self.urls
        if not urls:
            raise EnvError(ErrorCode.CONNECTION_LOST, f"{type(self).__name__} has no running server")
        apis, pool = self._control_apis(urls)
        if pool is None:
            return [call(api) for api in apis]
        try:
            results = pool.map(call, apis)  # submits every call now
        except RuntimeError as exc:  # stop() shut the pool between our lookup and the submit
            raise EnvError(ErrorCode.CONNECTION_LOST, f"{type(self).__name__} was stopped") from exc
        # map() yields in URL order and re-raises the first server's error, as a sequential loop would.
        return list(results)

    def push_config(self, update: dict[str, Any], token: str | None = None) -> list[dict[str, Any]]:
        """``POST /config`` to every server concurrently.

        Args:
            update: Partial reward config (applied at each session's next reset).
            token: Orchestrator token (defaults to the provider's).

        Returns:
            Each server's effective config snapshot, in :attr:`urls` order.

        Raises:
            EnvError: the first server's error (e.g. ``CONFIG_INVALID``); servers validate identically, so
                an invalid update is refused by all of them.
        """
        snaps = self._each_server(lambda api: api.push_config(update, token=token or self.token))
        with self._controls_lock:
            self._config_sent = deep_merge(self._config_sent, update)
        return snaps

    @property
    def config_sent(self) -> dict[str, Any]:
        """Every update :meth:`push_config` delivered, merged (what a restarted server must be sent again)."""
        with self._controls_lock:
            return copy.deepcopy(self._config_sent)

    def get_config(self, token: str | None = None) -> list[dict[str, Any]]:
        """``GET /config`` of every server (concurrently), in :attr:`urls` order.

        Args:
            token: Orchestrator token (defaults to the provider's); servers started with one require it.

        Returns:
            Each server's snapshot (empty when no server is running).

        Raises:
            EnvError: the first server's error (``UNAUTHORIZED``, ``UNSUPPORTED``, ``CONNECTION_LOST``...).
        """
        if not self.urls:
            return []  # nothing running: nothing to report (push_config, by contrast, must reach someone)
        return self._each_server(lambda api: api.get_config(token=token or self.token))

    def __enter__(self) -> Provider:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._close_controls()  # also for subclasses whose stop() does not

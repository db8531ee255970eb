"""The one interface every provider implements: something that gives you running env servers and clients.

A provider owns the servers' life cycle (:meth:`Provider.start`, :meth:`Provider.stop`,
:meth:`Provider.wait_healthy`) and hands out clients whose sessions spread round-robin across its servers.
``push_config`` reaches every server at once, so a pool is re-weighted together; each server applies the new
config at each of its sessions' next reset.
"""

from __future__ import annotations

import itertools
import threading
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..client import AsyncEnvClient, ControlAPI, EnvClient, env_types
from ..spec import EnvError, ErrorCode


class Provider(ABC):
    """Base class of providers.

    Subclasses implement :meth:`start`, :meth:`stop` and :meth:`wait_healthy`, keep :attr:`urls` current and
    may override :meth:`pick_url` (e.g. to restart a crashed server first). ``env_id`` (a registered id or
    None) types the clients it hands out.

    Args:
        env_id: Registered environment id used to type clients (None: generic action/observation).
        token: Orchestrator token for :meth:`push_config`.
    """

    def __init__(self, env_id: str | None = None, token: str | None = None) -> None:
        self.env_id = env_id
        self.token = token
        self._urls: list[str] = []
        self._rr = itertools.count()
        self._rr_lock = threading.Lock()

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
        urls = self.urls
        if not urls:
            raise EnvError(ErrorCode.CONNECTION_LOST, f"{type(self).__name__} has no running server")

        def one(url: str) -> dict[str, Any]:
            api = ControlAPI(url, token=token or self.token)
            try:
                return api.push_config(update)
            finally:
                api.close()

        if len(urls) == 1:
            return [one(urls[0])]
        with ThreadPoolExecutor(max_workers=min(16, len(urls)), thread_name_prefix="push-config") as pool:
            return list(pool.map(one, urls))

    def get_config(self) -> list[dict[str, Any]]:
        """``GET /config`` of every server, in :attr:`urls` order."""
        out = []
        for url in self.urls:
            api = ControlAPI(url, token=self.token)
            try:
                out.append(api.get_config())
            finally:
                api.close()
        return out

    def __enter__(self) -> Provider:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

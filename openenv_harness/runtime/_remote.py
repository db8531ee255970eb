"""Servers someone else runs: a list of base URLs, sessions spread round-robin across them."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence

import httpx

from ..client import normalize_base_url
from ..client._control import shared_ssl_context
from ._provider import Provider


class RemoteProvider(Provider):
    """Use already-running env servers (ours or OpenEnv's).

    ``start`` only checks that they answer ``/health``; ``stop`` forgets them (it never stops a server it did
    not start).

    Args:
        urls: Base URLs (``http://HOST:PORT``; a trailing ``/ws`` is accepted).
        token: Orchestrator token for ``GET``/``POST /config``.
        env_id: Registered environment id to type clients (None: generic).
        startup_timeout_s: How long :meth:`start` waits for every server to be healthy.
    """

    def __init__(
        self,
        urls: Sequence[str] | str,
        token: str | None = None,
        env_id: str | None = None,
        startup_timeout_s: float = 30.0,
    ) -> None:
        super().__init__(env_id=env_id, token=token)
        if isinstance(urls, str):
            urls = [u for u in urls.split(",") if u.strip()]
        if not urls:
            raise ValueError("RemoteProvider needs at least one server URL")
        self._configured = [normalize_base_url(u) for u in urls]
        self.startup_timeout_s = startup_timeout_s

    def start(self) -> list[str]:
        """Check every server answers ``/health`` and make the URLs available to clients."""
        if not self._urls:
            self._urls = list(self._configured)
            try:
                self.wait_healthy(self.startup_timeout_s)
            except BaseException:
                self._urls = []
                raise
        return self.urls

    def wait_healthy(self, timeout_s: float = 30.0) -> None:
        """Block until every server answers ``GET /health`` with 200.

        Raises:
            RuntimeError: naming the servers still unhealthy after ``timeout_s`` and the last error.
        """
        wait_http_healthy(list(self._urls or self._configured), timeout_s)

    def stop(self) -> None:
        """Forget the servers (they are not ours to stop) and close the control clients; idempotent."""
        self._urls = []
        self._close_controls()


def wait_http_healthy(urls: Sequence[str], timeout_s: float = 30.0, what: str = "remote servers") -> None:
    """Block until every URL answers ``GET /health`` with 200.

    Raises:
        RuntimeError: naming the servers still unhealthy after ``timeout_s`` and the last error.
    """
    deadline = time.monotonic() + timeout_s
    pending = list(urls)
    last: dict[str, str] = {}
    with httpx.Client(timeout=2.0, trust_env=False, verify=shared_ssl_context()) as http:
        while pending:
            for url in list(pending):
                with contextlib.suppress(httpx.HTTPError):
                    resp = http.get(f"{url}/health")
                    if resp.status_code == 200:
                        pending.remove(url)
                        continue
                    last[url] = f"HTTP {resp.status_code}"
                last.setdefault(url, "unreachable")
            if pending and time.monotonic() > deadline:
                detail = "; ".join(f"{u}: {last.get(u, '?')}" for u in pending)
                raise RuntimeError(f"{what} not healthy after {timeout_s:.1f}s: {detail}")
            if pending:
                time.sleep(0.1)

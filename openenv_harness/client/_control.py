"""The HTTP control surface every client shares: ``/health``, ``/metadata``, ``/schema`` and ``/config``.

These are orchestrator calls made rarely (at connect, once per config push), so they go over a lazily created
keep-alive ``httpx`` client, separate from the WebSocket that carries reset/step/state. Every client shares one
TLS context: building one loads the CA bundle (~40 ms here), which used to dominate a config push to a pool.
"""

from __future__ import annotations

import ssl
import threading
from typing import Any

import httpx

from ..spec import EnvError, ErrorCode
from ._protocol import ServerProtocol, http_error

_ssl_context: ssl.SSLContext | None = None
_ssl_lock = threading.Lock()


def shared_ssl_context() -> ssl.SSLContext:
    """The process-wide verifying TLS context of every control client (created once, on first use).

    An ``SSLContext`` may be shared by any number of connections and threads; what httpx would build per
    client is the same context (certifi's CA bundle, ``SSL_CERT_*`` variables ignored as ``trust_env=False``).
    """
    global _ssl_context
    if _ssl_context is None:
        with _ssl_lock:
            if _ssl_context is None:
                _ssl_context = httpx.create_ssl_context(trust_env=False)
    return _ssl_context


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _json(resp: httpx.Response, what: str) -> Any:
    try:
        body = resp.json()
    except ValueError:
        body = resp.text
    if resp.status_code >= 400:
        err = http_error(resp.status_code, body, what)
        if resp.status_code in (404, 405) and err.code == ErrorCode.SESSION_NOT_FOUND:
            # No error code of ours: the route itself is missing (e.g. /config on OpenEnv's own server).
            raise EnvError(
                ErrorCode.UNSUPPORTED,
                f"{what}: {resp.request.url} does not exist on this server (HTTP {resp.status_code}); "
                "only openenv_harness servers serve /config",
            )
        raise err
    return body


def _unreachable(base_url: str, what: str, exc: Exception) -> EnvError:
    return EnvError(ErrorCode.CONNECTION_LOST, f"{what}: cannot reach {base_url}: {exc}")


class ControlAPI:
    """Synchronous ``/health``, ``/metadata``, ``/schema`` and ``/config`` calls against one server.

    Safe to share between threads (one keep-alive pool; httpx clients are thread-safe), so a provider keeps
    one per server for its whole life.

    Args:
        base_url: The server's HTTP base URL.
        token: Default orchestrator token for ``GET``/``POST /config``.
        timeout_s: Per-request timeout.
    """

    def __init__(self, base_url: str, token: str | None = None, timeout_s: float = 10.0) -> None:
        self.base_url = base_url
        self.token = token
        self._timeout = timeout_s
        self._http: httpx.Client | None = None
        self._lock = threading.Lock()

    def _client(self) -> httpx.Client:
        http = self._http
        if http is None:
            with self._lock:  # two threads' first calls must not build (and leak) two pools
                if self._http is None:
                    self._http = httpx.Client(
                        base_url=self.base_url,
                        timeout=self._timeout,
                        trust_env=False,
                        verify=shared_ssl_context(),
                    )
                http = self._http
        return http

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        try:
            resp = self._client().request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise _unreachable(self.base_url, what, exc) from exc
        return _json(resp, what)

    def health(self) -> dict[str, Any]:
        """``GET /health``."""
        return dict(self._call("GET", "/health", "health"))

    def metadata(self) -> dict[str, Any]:
        """``GET /metadata``."""
        return dict(self._call("GET", "/metadata", "metadata"))

    def protocol(self) -> ServerProtocol:
        """What the server supports, from ``GET /metadata``."""
        return ServerProtocol.from_metadata(self.metadata())

    def schema(self) -> dict[str, Any]:
        """``GET /schema``: JSON schemas of action, observation, state (and config)."""
        return dict(self._call("GET", "/schema", "schema"))

    def get_config(self, token: str | None = None) -> dict[str, Any]:
        """``GET /config``: ``schema_version``, ``config``, ``config_version``, ``json_schema``.

        Args:
            token: Orchestrator token (defaults to this object's); a server started with one requires it.

        Raises:
            EnvError: ``UNAUTHORIZED`` without the right token, ``UNSUPPORTED`` for an env without config.
        """
        headers = _auth(token or self.token)
        return dict(self._call("GET", "/config", "get_config", headers=headers))

    def push_config(self, update: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        """``POST /config`` a partial update; returns the effective config (applied at each next reset).

        Raises:
            EnvError: ``CONFIG_INVALID`` naming the field, ``UNAUTHORIZED`` without the right token.
        """
        headers = _auth(token or self.token)
        return dict(self._call("POST", "/config", "push_config", json=update, headers=headers))

    def close(self) -> None:
        """Close the keep-alive connection (idempotent; a later call opens a new one)."""
        with self._lock:
            http, self._http = self._http, None
        if http is not None:
            http.close()


class AsyncControlAPI:
    """Asynchronous twin of :class:`ControlAPI`."""

    def __init__(self, base_url: str, token: str | None = None, timeout_s: float = 10.0) -> None:
        self.base_url = base_url
        self.token = token
        self._timeout = timeout_s
        self._http: httpx.AsyncClient | None = None

    async def _call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.base_url, timeout=self._timeout, trust_env=False, verify=shared_ssl_context()
            )
        try:
            resp = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise _unreachable(self.base_url, what, exc) from exc
        return _json(resp, what)

    async def health(self) -> dict[str, Any]:
        """``GET /health``."""
        return dict(await self._call("GET", "/health", "health"))

    async def metadata(self) -> dict[str, Any]:
        """``GET /metadata``."""
        return dict(await self._call("GET", "/metadata", "metadata"))

    async def protocol(self) -> ServerProtocol:
        """What the server supports, from ``GET /metadata``."""
        return ServerProtocol.from_metadata(await self.metadata())

    async def schema(self) -> dict[str, Any]:
        """``GET /schema``."""
        return dict(await self._call("GET", "/schema", "schema"))

    async def get_config(self, token: str | None = None) -> dict[str, Any]:
        """``GET /config``; see :meth:`ControlAPI.get_config`."""
        headers = _auth(token or self.token)
        return dict(await self._call("GET", "/config", "get_config", headers=headers))

    async def push_config(self, update: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        """``POST /config`` a partial update; see :meth:`ControlAPI.push_config`."""
        headers = _auth(token or self.token)
        return dict(await self._call("POST", "/config", "push_config", json=update, headers=headers))

    async def close(self) -> None:
        """Close the keep-alive connection (idempotent)."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

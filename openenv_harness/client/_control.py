"""The HTTP control surface every client shares: ``/health``, ``/metadata``, ``/schema`` and ``/config``.

These are orchestrator calls made rarely (at connect, once per config push), so they go over a lazily created
keep-alive ``httpx`` client, separate from the WebSocket that carries reset/step/state.
"""

from __future__ import annotations

from typing import Any

import httpx

from ..spec import EnvError, ErrorCode
from ._protocol import ServerProtocol, http_error


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

    Args:
        base_url: The server's HTTP base URL.
        token: Default orchestrator token for ``POST /config``.
        timeout_s: Per-request timeout.
    """

    def __init__(self, base_url: str, token: str | None = None, timeout_s: float = 10.0) -> None:
        self.base_url = base_url
        self.token = token
        self._timeout = timeout_s
        self._http: httpx.Client | None = None

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(base_url=self.base_url, timeout=self._timeout, trust_env=False)
        return self._http

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

    def get_config(self) -> dict[str, Any]:
        """``GET /config``: ``schema_version``, ``config``, ``config_version``, ``json_schema``."""
        return dict(self._call("GET", "/config", "get_config"))

    def push_config(self, update: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        """``POST /config`` a partial update; returns the effective config (applied at each next reset).

        Raises:
            EnvError: ``CONFIG_INVALID`` naming the field, ``UNAUTHORIZED`` without the right token.
        """
        headers = _auth(token or self.token)
        return dict(self._call("POST", "/config", "push_config", json=update, headers=headers))

    def close(self) -> None:
        """Close the keep-alive connection (idempotent)."""
        if self._http is not None:
            self._http.close()
            self._http = None


class AsyncControlAPI:
    """Asynchronous twin of :class:`ControlAPI`."""

    def __init__(self, base_url: str, token: str | None = None, timeout_s: float = 10.0) -> None:
        self.base_url = base_url
        self.token = token
        self._timeout = timeout_s
        self._http: httpx.AsyncClient | None = None

    async def _call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        if self._http is None:
            self._http = httpx.AsyncClient(base_url=self.base_url, timeout=self._timeout, trust_env=False)
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

    async def get_config(self) -> dict[str, Any]:
        """``GET /config``."""
        return dict(await self._call("GET", "/config", "get_config"))

    async def push_config(self, update: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        """``POST /config`` a partial update; see :meth:`ControlAPI.push_config`."""
        headers = _auth(token or self.token)
        return dict(await self._call("POST", "/config", "push_config", json=update, headers=headers))

    async def close(self) -> None:
        """Close the keep-alive connection (idempotent)."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

"""The HTTP env client: the same face as :class:`EnvClient`, over the stateful ``/reset`` ``/step`` ``/state``.

Use it where WebSockets cannot pass (some proxies, serverless front ends). Each reset opens a session on the
server; its id (``session_id`` in the reset body, also the ``X-Session-Id`` header) is sent back on every step
and state. A step whose session the server no longer knows (reaped, server restarted) is
``SESSION_NOT_FOUND``: the episode is lost and the next :meth:`reset` starts a new one. Requests reuse one
keep-alive connection (``httpx``).
"""

from __future__ import annotations

import contextlib
from typing import Any, Generic

import httpx

from ..spec import Action, EnvError, ErrorCode, GenericAction, GenericObservation, State
from ..spec._types import ObsT
from ._control import ControlAPI, shared_ssl_context
from ._protocol import action_data, http_error, normalize_base_url, parse_observation, parse_state, reset_data

SESSION_HEADER = "X-Session-Id"


class HTTPEnvClient(Generic[ObsT]):
    """Drive one environment session over our stateful HTTP routes.

    Args:
        base_url: ``http://HOST:PORT`` of an ``openenv_harness`` server (OpenEnv's own HTTP routes are
            stateless, so this client needs ours).
        action_type: Action model used to validate dict actions client-side.
        observation_type: Observation model replies are parsed into.
        state_type: State model :meth:`state` returns.
        token: Orchestrator token for :meth:`push_config` and :meth:`get_config`.
        request_timeout_s: Client-side wait for a reply when a call sets no ``timeout_s``.
        reply_grace_s: Extra wait beyond a step's ``timeout_s`` (the server enforces the step budget).
    """

    def __init__(
        self,
        base_url: str,
        *,
        action_type: type[Action] = GenericAction,
        observation_type: type[ObsT] = GenericObservation,  # type: ignore[assignment]
        state_type: type[State] = State,
        token: str | None = None,
        request_timeout_s: float = 120.0,
        reply_grace_s: float = 5.0,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.action_type = action_type
        self.observation_type = observation_type
        self.state_type = state_type
        self.request_timeout_s = request_timeout_s
        self.reply_grace_s = reply_grace_s
        self.session_id: str | None = None
        self._http = httpx.Client(
            base_url=self.base_url, timeout=request_timeout_s, trust_env=False, verify=shared_ssl_context()
        )
        self._control = ControlAPI(self.base_url, token=token)
        self._closed = False

    def _request(
        self, op: str, method: str, path: str, timeout_s: float | None, **kwargs: Any
    ) -> dict[str, Any]:
        if self._closed:
            raise EnvError(ErrorCode.CONNECTION_LOST, "this client was closed; create a new one")
        wait = self.request_timeout_s if timeout_s is None else timeout_s + self.reply_grace_s
        try:
            resp = self._http.request(method, path, timeout=wait, **kwargs)
        except httpx.TimeoutException:
            raise EnvError(
                ErrorCode.TIMEOUT, f"{op}: no reply from {self.base_url} within {wait:.3g}s"
            ) from None
        except httpx.HTTPError as exc:
            lost = self.session_id is not None and op != "reset"
            raise EnvError(
                ErrorCode.CONNECTION_LOST,
                f"{op}: cannot reach {self.base_url} ({exc})"
                + ("; the episode may be lost, call reset() to start a new one" if lost else ""),
            ) from exc
        try:
            body = resp.json()
        except ValueError:
            body = resp.text
        if resp.status_code >= 400:
            err = http_error(resp.status_code, body, op)
            if err.code == ErrorCode.SESSION_NOT_FOUND:
                self.session_id = None
            raise err
        if not isinstance(body, dict):
            raise EnvError(
                ErrorCode.INTERNAL, f"{op}: server answered with a non-object body: {str(body)[:200]}"
            )
        return body

    def _session_headers(self, op: str) -> dict[str, str]:
        if self.session_id is None:
            raise EnvError(ErrorCode.NOT_RESET, f"cannot {op} before reset() (no HTTP session yet)")
        return {SESSION_HEADER: self.session_id}

    def reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        timeout_s: float | None = None,
        **task: Any,
    ) -> ObsT:
        """Start a new episode; reuses this client's server session when it still exists."""
        body = reset_data(seed, episode_id, task)
        headers = {SESSION_HEADER: self.session_id} if self.session_id else {}
        if timeout_s is not None:
            body["timeout_s"] = timeout_s
        try:
            reply = self._request("reset", "POST", "/reset", timeout_s, json=body, headers=headers)
        except EnvError as exc:
            if exc.code != ErrorCode.SESSION_NOT_FOUND or not headers:
                raise
            reply = self._request(
                "reset", "POST", "/reset", timeout_s, json=body
            )  # session expired: open anew
        sid = reply.get("session_id")
        if not isinstance(sid, str):
            raise EnvError(
                ErrorCode.UNSUPPORTED,
                f"{self.base_url} answered /reset without a session_id: its HTTP routes are stateless (as "
                "OpenEnv's are), so steps could not reach this episode; use EnvClient (WebSocket) instead",
            )
        self.session_id = sid
        return parse_observation({"type": "observation", "data": reply}, self.observation_type)  # type: ignore[return-value]

    def step(self, action: Action | dict[str, Any], timeout_s: float | None = None) -> ObsT:
        """Apply one action (``POST /step`` with the session id)."""
        headers = self._session_headers("step")
        body: dict[str, Any] = {"action": action_data(action, self.action_type)}
        if timeout_s is not None:
            body["timeout_s"] = timeout_s
        reply = self._request("step", "POST", "/step", timeout_s, json=body, headers=headers)
        return parse_observation({"type": "observation", "data": reply}, self.observation_type)  # type: ignore[return-value]

    def state(self) -> State:
        """The episode state (``GET /state`` with the session id)."""
        reply = self._request("state", "GET", "/state", None, headers=self._session_headers("state"))
        return parse_state({"type": "state", "data": reply}, self.state_type)

    def health(self) -> dict[str, Any]:
        """``GET /health``."""
        return self._control.health()

    def metadata(self) -> dict[str, Any]:
        """``GET /metadata``."""
        return self._control.metadata()

    def schema(self) -> dict[str, Any]:
        """``GET /schema``."""
        return self._control.schema()

    def get_config(self, token: str | None = None) -> dict[str, Any]:
        """``GET /config`` (sends ``token`` or the client's own)."""
        return self._control.get_config(token=token)

    def push_config(self, update: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        """``POST /config``; applied at each session's next reset."""
        return self._control.push_config(update, token=token)

    def close(self) -> None:
        """End the server session (``POST /close``, best effort) and release the connection (idempotent)."""
        if self._closed:
            return
        if self.session_id is not None:
            with contextlib.suppress(EnvError):  # gone already: the reaper or a restart freed it
                self._request("close", "POST", "/close", None, headers={SESSION_HEADER: self.session_id})
            self.session_id = None
        self._closed = True
        self._http.close()
        self._control.close()

    def __enter__(self) -> HTTPEnvClient[ObsT]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""What every client shares: server capability detection, frame building and reply decoding.

The wire protocol is OpenEnv 0.10's WebSocket protocol (see DESIGN.md §3). Our own server adds optional
top-level keys: ``id`` on every client frame (echoed on its reply) and ``timeout_s`` on a step. OpenEnv's own
server rejects unknown top-level keys (``extra_forbidden``), so a client first learns from ``GET /metadata``
whether it talks to an ``openenv_harness`` server and only then uses the extensions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ValidationError

from ..spec import Action, EnvError, ErrorCode, GenericAction, Observation, State, observation_from_wire

SERVER_NAME = "openenv_harness"
"""Value of ``server`` in ``GET /metadata`` that marks one of our servers."""


@dataclass(frozen=True)
class ServerProtocol:
    """What a server supports beyond plain OpenEnv 0.10.

    Attributes:
        ours: The server is an ``openenv_harness`` server.
        ids: Client frames may carry an ``id`` that the reply echoes.
        timeout_s: Step frames may carry ``timeout_s``.
        config: ``GET/POST /config`` exist.
    """

    ours: bool = False
    ids: bool = False
    timeout_s: bool = False
    config: bool = False

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> ServerProtocol:
        """Read the capabilities from a ``GET /metadata`` body (anything unknown means plain OpenEnv)."""
        if not isinstance(meta, dict) or meta.get("server") != SERVER_NAME:
            return PLAIN
        proto = meta.get("protocol")
        proto = proto if isinstance(proto, dict) else {}
        return cls(
            ours=True,
            ids=bool(proto.get("ids")),
            timeout_s=bool(proto.get("timeout_s")),
            config=bool(proto.get("config")),
        )


PLAIN = ServerProtocol()
"""The capabilities of a plain OpenEnv server (no extensions)."""
OURS = ServerProtocol(ours=True, ids=True, timeout_s=True, config=True)
"""The capabilities of an ``openenv_harness`` server (used by the in-process provider)."""


def normalize_base_url(url: str) -> str:
    """Strip a trailing slash and a trailing ``/ws`` so ``http://h:p``, ``ws://h:p/ws`` all mean one server."""
    url = url.strip().rstrip("/")
    if url.endswith("/ws"):
        url = url[: -len("/ws")]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.netloc:
        raise ValueError(f"not a server URL: {url!r} (expected http://HOST:PORT)")
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path, "", ""))


def ws_url(base_url: str) -> str:
    """The ``/ws`` endpoint of a server given its HTTP base URL."""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws", "", ""))


def reset_data(seed: int | None, episode_id: str | None, task: dict[str, Any]) -> dict[str, Any]:
    """The ``data`` object of a reset frame; None values are left out (OpenEnv's defaults apply)."""
    data: dict[str, Any] = {}
    if seed is not None:
        data["seed"] = seed
    if episode_id is not None:
        data["episode_id"] = episode_id
    data.update(task)
    return data


def action_data(action: Action | dict[str, Any], action_type: type[Action]) -> dict[str, Any]:
    """Validate an action client-side and return its wire fields (the ``data`` of a step frame).

    A dict is validated against ``action_type`` first so a typo fails here with the field named, not as a
    round trip; with :class:`GenericAction` a dict is sent as it is.

    Raises:
        EnvError: ``VALIDATION_ERROR`` naming the offending field.
    """
    if isinstance(action, dict):
        if action_type is GenericAction:
            return action
        try:
            action = action_type.__pydantic_validator__.validate_python(
                action
            )  # = model_validate, less wrapping
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "<action>"
            raise EnvError(
                ErrorCode.VALIDATION_ERROR, f"action.{field}: {err['msg']}", {"field": field}
            ) from None
    if not isinstance(action, BaseModel):
        raise EnvError(
            ErrorCode.VALIDATION_ERROR, f"action must be an Action or a dict, got {type(action)!r}"
        )
    data: dict[str, Any] = type(action).__pydantic_serializer__.to_python(action, mode="json")
    return data


_ENCODER = json.JSONEncoder(separators=(",", ":"))
# One encoder for every frame: ``json.dumps`` with options builds a new encoder object per call, which was a
# visible share of the rollout engine's CPU per turn.


def encode(frame: dict[str, Any]) -> str:
    """JSON-encode a frame compactly."""
    return _ENCODER.encode(frame)


def decode(raw: str | bytes) -> dict[str, Any]:
    """Parse a server frame.

    Raises:
        EnvError: ``INVALID_JSON`` if the server sent something that is not a JSON object.
    """
    try:
        msg = json.loads(raw)
    except ValueError as exc:
        raise EnvError(ErrorCode.INVALID_JSON, f"server sent a frame that is not JSON: {exc}") from None
    if not isinstance(msg, dict):
        raise EnvError(ErrorCode.INVALID_JSON, "server sent a frame that is not a JSON object")
    return msg


def raise_if_error(msg: dict[str, Any]) -> None:
    """Raise the server's :class:`EnvError` if ``msg`` is an error frame."""
    if msg.get("type") == "error":
        data = msg.get("data")
        raise EnvError.from_wire(data if isinstance(data, dict) else {"message": str(data)})


def parse_observation(msg: dict[str, Any], observation_type: type[Observation]) -> Observation:
    """Turn an ``observation`` reply into a typed observation (errors raise :class:`EnvError`)."""
    raise_if_error(msg)
    if msg.get("type") != "observation":
        raise EnvError(
            ErrorCode.PROTOCOL_ERROR, f"expected an observation frame, got type {msg.get('type')!r}"
        )
    data = msg.get("data")
    if not isinstance(data, dict):
        raise EnvError(ErrorCode.PROTOCOL_ERROR, "observation frame without a data object")
    try:
        return observation_from_wire(data, observation_type)
    except ValidationError as exc:
        # The server's reply, not the policy's action, is at fault: an infrastructure error.
        raise EnvError(
            ErrorCode.PROTOCOL_ERROR,
            f"server observation does not fit {observation_type.__name__}: {exc.errors()[0]['msg']}",
        ) from None


def parse_state(msg: dict[str, Any], state_type: type[State]) -> State:
    """Turn a ``state`` reply into a typed state (errors raise :class:`EnvError`)."""
    raise_if_error(msg)
    if msg.get("type") != "state":
        raise EnvError(ErrorCode.INTERNAL, f"expected a state frame, got type {msg.get('type')!r}")
    data = msg.get("data")
    return state_type.model_validate(data if isinstance(data, dict) else {})


def http_error(status: int, body: Any, what: str) -> EnvError:
    """Map an HTTP error response (ours: ``{"code", "message"}``, possibly under ``error``/``detail``)."""
    data = body
    for key in ("error", "detail"):
        if isinstance(data, dict) and isinstance(data.get(key), dict):
            data = data[key]
    if isinstance(data, dict) and "code" in data:
        return EnvError.from_wire(data)
    code = {
        401: ErrorCode.UNAUTHORIZED,
        403: ErrorCode.UNAUTHORIZED,
        404: ErrorCode.SESSION_NOT_FOUND,
        409: ErrorCode.NOT_RESET,
        422: ErrorCode.VALIDATION_ERROR,
        429: ErrorCode.CAPACITY,
        503: ErrorCode.CAPACITY,
        504: ErrorCode.TIMEOUT,
    }.get(status, ErrorCode.INTERNAL)
    return EnvError(code, f"{what}: HTTP {status}: {str(body)[:300]}")

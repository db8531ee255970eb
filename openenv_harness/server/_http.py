"""Stateful HTTP routes: ``POST /reset``, ``POST /step``, ``GET|POST /state``, ``POST /close``.

Unlike OpenEnv's HTTP routes (a fresh environment per request), these are stateful through a session id:
``/reset`` without a session id creates a session and returns its id as ``session_id`` in the body and in the
``X-Session-Id`` header; every other route takes the id as header ``X-Session-Id`` or body field
``session_id``. A step without a valid session is a 4xx that says to call ``/reset`` first -- never a fresh env.

Bodies use OpenEnv's shapes: ``/reset`` takes the reset kwargs flat (``{"seed": 1, "episode_id": ...}``) plus
our ``session_id`` and ``timeout_s``; ``/step`` takes ``{"action": {...}, "timeout_s": ..., "request_id": ...}``.
Replies are the observation wire form ``{"observation", "reward", "done", "metadata"}``. Errors are
``{"code", "message"[, "details"]}`` with the status from :data:`openenv_harness.server.HTTP_STATUS`.

The handlers are plain Starlette endpoints (no FastAPI body models or response validation) because they are
on the per-step hot path; their schemas are documented here and at ``/schema`` instead of OpenAPI.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from openenv_harness.spec import EnvError, ErrorCode

from ._sessions import SessionRegistry
from ._wire import check_depth, check_integers, dumps, http_status, loads
from ._ws import parse_timeout

log = logging.getLogger(__name__)

SESSION_HEADER = "x-session-id"
_STEP_KEYS = frozenset({"action", "timeout_s", "session_id", "request_id"})
_JSON = "application/json"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response encoded with the fast encoder."""
    return Response(dumps(body), status_code=status, media_type=_JSON, headers=headers)


def error_response(err: EnvError) -> Response:
    """The ``{"code", "message"}`` body and status for an error."""
    status = http_status(err)
    headers = {"Retry-After": "1"} if err.code == ErrorCode.CAPACITY else None
    return json_response(err.to_wire(), status, headers)


async def read_json(
    request: Request, max_bytes: int, *, required: bool = False, wide_ints: bool = False
) -> dict[str, Any]:
    """Read a JSON-object body under a size limit (an empty body is ``{}`` unless ``required``).

    The size is enforced while the body streams in by the app's :class:`~._body.BodyLimit` middleware (which
    raises ``FRAME_TOO_LARGE`` / ``REQUEST_TIMEOUT`` from ``request.body()``); the checks here cover the app
    used without it. Bodies nested deeper than ``MAX_JSON_DEPTH``, or holding an integer beyond 64 bits, are
    ``VALIDATION_ERROR``; ``wide_ints=True`` lets the latter through, for routes that read nothing of the body
    but ``session_id`` (a value they ignore cannot be mis-read).
    """
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        raise EnvError(
            ErrorCode.FRAME_TOO_LARGE,
            f"body of {length} bytes exceeds max_frame_bytes={max_bytes}",
            {"max_frame_bytes": max_bytes},
        )
    raw = await request.body()
    if len(raw) > max_bytes:
        raise EnvError(ErrorCode.FRAME_TOO_LARGE, f"body exceeds max_frame_bytes={max_bytes}")
    if not raw.strip():
        if required:
            raise EnvError(ErrorCode.VALIDATION_ERROR, "empty body: expected a JSON object")
        return {}
    try:
        body = loads(raw)
    except ValueError as exc:
        raise EnvError(ErrorCode.INVALID_JSON, f"body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise EnvError(ErrorCode.INVALID_JSON, f"body must be a JSON object, got {type(body).__name__}")
    check_depth(raw, body)
    if not wide_ints:
        check_integers(raw)
    return body


def _guarded(
    fn: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Turn EnvError into its error response and any other exception into a 500 ``INTERNAL``."""

    async def endpoint(request: Request) -> Response:
        try:
            return await fn(request)
        except EnvError as err:
            return error_response(err)
        except Exception as exc:
            log.exception("internal error in %s %s", request.method, request.url.path)
            return error_response(EnvError(ErrorCode.INTERNAL, f"internal server error: {exc!r}"))

    endpoint.__name__ = fn.__name__
    return endpoint


def _session_id(request: Request, body: dict[str, Any]) -> str | None:
    sid = body.pop("session_id", None)
    # checked before the header can override it: a malformed body is refused whatever else was sent
    if sid is not None and not isinstance(sid, str):
        raise EnvError(ErrorCode.VALIDATION_ERROR, f"session_id: must be a string, got {str(sid)[:80]}")
    header = request.headers.get(SESSION_HEADER)
    return header or sid


def http_endpoints(
    registry: SessionRegistry, max_frame_bytes: int
) -> list[tuple[str, Callable[[Request], Awaitable[Response]], list[str]]]:
    """The ``(path, endpoint, methods)`` triples of the stateful HTTP routes."""

    async def reset(request: Request) -> Response:
        body = await read_json(request, max_frame_bytes)
        sid = _session_id(request, body)
        timeout = parse_timeout(body.pop("timeout_s", None))
        if sid:
            session = registry.require(sid)
            created = False
        else:
            session = await registry.create()
            created = True
        try:
            wire = await session.reset(body, timeout)
        except EnvError:
            if created:  # the caller never learns this id: do not leave it for the reaper
                registry.close(session.id)
            raise
        wire["session_id"] = session.id
        return json_response(wire, headers={"X-Session-Id": session.id})

    async def step(request: Request) -> Response:
        body = await read_json(request, max_frame_bytes, required=True)
        session = registry.require(_session_id(request, body))
        if not body.keys() <= _STEP_KEYS:
            extra = ", ".join(sorted(body.keys() - _STEP_KEYS))
            raise EnvError(
                ErrorCode.VALIDATION_ERROR,
                f"unknown body field(s) {extra}; /step takes action, timeout_s, session_id, request_id",
            )
        if "action" not in body:
            raise EnvError(ErrorCode.VALIDATION_ERROR, 'action: missing; the body is {"action": {...}}')
        wire = await session.step(body["action"], parse_timeout(body.get("timeout_s")))
        return json_response(wire)

    async def state(request: Request) -> Response:
        body = await read_json(request, max_frame_bytes, wide_ints=True) if request.method == "POST" else {}
        session = registry.require(_session_id(request, body))
        return json_response(await session.state())

    async def close(request: Request) -> Response:
        body = await read_json(request, max_frame_bytes, wide_ints=True)
        sid = _session_id(request, body)
        registry.require(sid)
        registry.close(str(sid))
        return json_response({"closed": True, "session_id": sid})

    return [
        ("/reset", _guarded(reset), ["POST"]),
        ("/step", _guarded(step), ["POST"]),
        ("/state", _guarded(state), ["GET", "POST"]),
        ("/close", _guarded(close), ["POST"]),
    ]


__all__ = ["SESSION_HEADER", "error_response", "http_endpoints", "json_response", "read_json"]

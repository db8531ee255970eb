"""WS ``/ws``: one session per connection, message-compatible with OpenEnv 0.10.

Client frames: ``{"type": "reset", "data": {kwargs}}``, ``{"type": "step", "data": {action fields}}``,
``{"type": "state"}``, ``{"type": "close"}``. Server frames: ``observation`` (``data`` is the observation wire
form; the reply to a reset also carries ``data.session_id``), ``state`` and ``error`` (``data.code``,
``data.message``). Extensions, as top-level keys beside ``type`` and ``data``: ``id`` on any client frame
(any JSON scalar, echoed on its reply) and ``timeout_s`` on reset/step. Unknown top-level keys are refused.

Every bad frame gets an ``error`` frame and the connection stays open: ``INVALID_JSON`` (not JSON or not an
object), ``UNKNOWN_TYPE``, ``VALIDATION_ERROR`` (action, reset arguments, ``timeout_s``, unknown keys),
``FRAME_TOO_LARGE`` (larger than ``max_frame_bytes``). Frames larger than the transport limit that
:func:`openenv_harness.server.serve` gives uvicorn (``ws_max_size``, 4x ``max_frame_bytes``) are refused by the
WebSocket library itself, which closes the connection with code 1009 before the app sees them. A full server
accepts the connection, sends a ``CAPACITY`` error frame and closes with 1013 (try again later). An idle session
closed by the reaper is closed with code 1001 and the reason in the close frame. ``close`` ends the session and
the server closes with 1000, as OpenEnv does.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from openenv_harness.spec import EnvError, ErrorCode

from ._session import Session
from ._sessions import SessionRegistry
from ._wire import dumps, error_frame, loads

log = logging.getLogger(__name__)

_ALLOWED_KEYS = frozenset({"type", "data", "id", "timeout_s"})
_TYPES = "reset, step, state, close"


def parse_timeout(value: Any) -> float | None:
    """Validate a ``timeout_s`` value (a positive number or null)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise EnvError(ErrorCode.VALIDATION_ERROR, f"timeout_s: must be a positive number, got {value!r}")
    return float(value)


def frame_too_large(raw: str | bytes, limit: int) -> bool:
    """True if the UTF-8 size of ``raw`` exceeds ``limit`` (encodes only when the length alone cannot tell)."""
    n = len(raw)
    if n > limit:
        return True
    if isinstance(raw, str) and n * 4 > limit:
        return len(raw.encode("utf-8", "surrogatepass")) > limit
    return False


async def _handle(session: Session, frame: dict[str, Any]) -> dict[str, Any] | None:
    """Answer one parsed frame (None for ``close``); raises EnvError for bad frames."""
    typ = frame.get("type")
    if not frame.keys() <= _ALLOWED_KEYS:
        extra = sorted(str(k) for k in frame.keys() - _ALLOWED_KEYS)
        raise EnvError(
            ErrorCode.VALIDATION_ERROR,
            f"unknown top-level key(s) {', '.join(extra)}; a frame has type, data and optionally id, timeout_s",
        )
    if typ == "step":
        if "data" not in frame:
            raise EnvError(ErrorCode.VALIDATION_ERROR, "step: missing data (the action object)")
        timeout = frame.get("timeout_s")
        data = await session.step(frame["data"], parse_timeout(timeout) if timeout is not None else None)
        return {"type": "observation", "data": data}
    if typ == "reset":
        data = await session.reset(frame.get("data"), parse_timeout(frame.get("timeout_s")))
        data["session_id"] = session.id
        return {"type": "observation", "data": data}
    if typ == "state":
        return {"type": "state", "data": await session.state()}
    if typ == "close":
        return None
    raise EnvError(ErrorCode.UNKNOWN_TYPE, f"unknown frame type {typ!r}; expected one of {_TYPES}")


def _peek_id(raw: str | bytes) -> Any:
    """The ``id`` of an oversized frame, if it parses (only to label the error reply)."""
    try:
        frame = loads(raw)
    except ValueError:
        return None
    return frame.get("id") if isinstance(frame, dict) else None


async def serve_websocket(websocket: WebSocket, registry: SessionRegistry, max_frame_bytes: int) -> None:
    """Run one WS connection: create its session, answer frames until close/disconnect, clean up."""
    await websocket.accept()
    try:
        session = await registry.create()
    except EnvError as err:
        await websocket.send({"type": "websocket.send", "text": error_frame(err).decode()})
        await websocket.close(code=1013 if err.code == ErrorCode.CAPACITY else 1011, reason=str(err.code))
        return

    async def closer(reason: str) -> None:
        if websocket.application_state == WebSocketState.CONNECTED:
            await websocket.close(code=1001, reason=reason[:120])

    session.closer = closer
    receive = websocket.receive
    send = websocket.send
    close_code = 1000
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                close_code = 0
                break
            raw = message.get("text")
            if raw is None:
                raw = message.get("bytes") or b""
            req_id = None
            try:
                if frame_too_large(raw, max_frame_bytes):
                    req_id = _peek_id(raw)
                    raise EnvError(
                        ErrorCode.FRAME_TOO_LARGE,
                        f"frame of {len(raw)} bytes exceeds max_frame_bytes={max_frame_bytes}",
                        {"max_frame_bytes": max_frame_bytes},
                    )
                try:
                    frame = loads(raw)
                except ValueError as exc:
                    raise EnvError(ErrorCode.INVALID_JSON, f"frame is not valid JSON: {exc}") from None
                if not isinstance(frame, dict):
                    raise EnvError(
                        ErrorCode.INVALID_JSON, f"frame must be a JSON object, got {type(frame).__name__}"
                    )
                req_id = frame.get("id")
                if frame.get("type") == "step" and "data" in frame and frame.keys() <= _ALLOWED_KEYS:
                    timeout = frame.get("timeout_s")  # the hot path, without the dispatcher's extra frame
                    data = await session.step(
                        frame["data"], None if timeout is None else parse_timeout(timeout)
                    )
                    reply: dict[str, Any] | None = {"type": "observation", "data": data}
                else:
                    reply = await _handle(session, frame)
                if reply is None:
                    break
                if req_id is not None:
                    reply["id"] = req_id
                out = dumps(reply)
            except EnvError as err:
                out = error_frame(err, req_id)
            except Exception as exc:  # a bug of ours: report it on this frame, keep the connection
                log.exception("internal error while handling a WS frame")
                out = error_frame(EnvError(ErrorCode.INTERNAL, f"internal server error: {exc!r}"), req_id)
            if websocket.application_state != WebSocketState.CONNECTED:
                close_code = 0  # closed under us (reaper, shutdown)
                break
            await send({"type": "websocket.send", "text": out.decode()})
    except (WebSocketDisconnect, RuntimeError, OSError):
        close_code = 0  # the client went away, or the session was closed under us
    finally:
        session.closer = None
        registry.close(session.id)
        if close_code and websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
                await websocket.close(code=close_code)


__all__ = ["frame_too_large", "parse_timeout", "serve_websocket"]

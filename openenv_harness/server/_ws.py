"""WS ``/ws``: one session per connection, message-compatible with OpenEnv 0.10.

Client frames: ``{"type": "reset", "data": {kwargs}}``, ``{"type": "step", "data": {action fields}}``,
``{"type": "state"}``, ``{"type": "close"}``. Server frames: ``observation`` (``data`` is the observation wire
form; the reply to a reset also carries ``data.session_id``), ``state`` and ``error`` (``data.code``,
``data.message``). Extensions, as top-level keys beside ``type`` and ``data``: ``id`` on any client frame
(any JSON value, echoed on its reply) and ``timeout_s`` on reset/step. Unknown top-level keys are refused.

Every bad frame gets an ``error`` frame and the connection stays open: ``INVALID_JSON`` (not JSON or not an
object), ``UNKNOWN_TYPE``, ``VALIDATION_ERROR`` (action, reset arguments, ``timeout_s``, unknown keys),
``FRAME_TOO_LARGE`` (larger than ``max_frame_bytes``), ``VALIDATION_ERROR`` for any field nested deeper than
``MAX_JSON_DEPTH`` (64) levels or holding an integer beyond 64 bits (named by its path, e.g. ``data.seed``; for
an ``id`` the error frame goes without it). Frames larger than the transport limit that
:func:`openenv_harness.server.serve` gives uvicorn (``ws_max_size``: 4x ``max_frame_bytes``, at least 16 MiB) are refused by the
WebSocket library itself, which closes the connection with code 1009 before the app sees them. A full server
accepts the connection, sends a ``CAPACITY`` error frame and closes with 1013 (try again later). An idle session
closed by the reaper is closed with code 1001 and the reason in the close frame. ``close`` ends the session and
the server closes with 1000, as OpenEnv does.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from starlette.types import Receive, Scope, Send

from openenv_harness.spec import EnvError, ErrorCode

from ._session import Session
from ._sessions import SessionRegistry
from ._wire import check_depth, check_integers, dumps, error_frame, loads

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


class _Connection:
    """The raw ASGI side of one WS connection: send/close that never raise once the socket is gone."""

    __slots__ = ("_send", "open")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.open = True

    async def send(self, payload: bytes) -> None:
        await self._send({"type": "websocket.send", "text": payload.decode()})

    async def close(self, code: int, reason: str = "") -> None:
        if self.open:
            self.open = False
            with contextlib.suppress(RuntimeError, OSError):
                await self._send({"type": "websocket.close", "code": code, "reason": reason[:120]})


class WebSocketEndpoint:
    """The ``/ws`` route as a plain ASGI app.

    It talks ASGI directly rather than through Starlette's ``WebSocket`` wrapper because it sits on the
    per-step hot path: every frame would otherwise pay two extra coroutine layers of state checks.
    """

    def __init__(self, registry: SessionRegistry, max_frame_bytes: int) -> None:
        self.registry = registry
        self.max_frame_bytes = max_frame_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run one connection: create its session, answer frames until close/disconnect, clean up."""
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        conn = _Connection(send)
        try:
            session = await self.registry.create()
        except EnvError as err:
            with contextlib.suppress(RuntimeError, OSError):
                await conn.send(error_frame(err))
            await conn.close(1013 if err.code == ErrorCode.CAPACITY else 1011, str(err.code))
            return

        async def closer(reason: str) -> None:
            await conn.close(1001, reason)

        session.closer = closer
        try:
            await self._serve(session, receive, conn)
        except (RuntimeError, OSError):  # the client went away while we were sending
            conn.open = False
        finally:
            session.closer = None
            self.registry.close(session.id)
            await conn.close(1000)

    async def _serve(self, session: Session, receive: Receive, conn: _Connection) -> None:
        limit = self.max_frame_bytes
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                conn.open = False
                return
            raw = message.get("text")
            if raw is None:
                raw = message.get("bytes") or b""
            req_id = None
            try:
                if len(raw) * 4 > limit and frame_too_large(raw, limit):
                    req_id = _peek_id(raw)
                    raise EnvError(
                        ErrorCode.FRAME_TOO_LARGE,
                        f"frame of {len(raw)} bytes exceeds max_frame_bytes={limit}",
                        {"max_frame_bytes": limit},
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
                check_depth(raw, frame)
                try:
                    check_integers(raw)
                except EnvError as err:
                    field = str(err.details.get("field") or "")
                    if field == "id" or field.startswith(("id.", "id[")):  # also inside a non-integer id
                        req_id = None  # the echo would differ from what was sent: refuse rather than mislabel
                    raise
                if frame.get("type") == "step" and "data" in frame and frame.keys() <= _ALLOWED_KEYS:
                    timeout = frame.get("timeout_s")  # the hot path, without the dispatcher's extra frame
                    data = await session.step(
                        frame["data"], None if timeout is None else parse_timeout(timeout)
                    )
                    reply: dict[str, Any] | None = {"type": "observation", "data": data}
                else:
                    reply = await _handle(session, frame)
                if reply is None:  # close: the caller closes with 1000, as OpenEnv does
                    return
                if req_id is not None:
                    reply["id"] = req_id
                out = dumps(reply)
            except EnvError as err:
                out = error_frame(err, req_id)
            except Exception as exc:  # a bug of ours: report it on this frame, keep the connection
                log.exception("internal error while handling a WS frame")
                out = error_frame(EnvError(ErrorCode.INTERNAL, f"internal server error: {exc!r}"), req_id)
            if not conn.open:  # closed under us (reaper, shutdown)
                return
            await conn.send(out)


__all__ = ["WebSocketEndpoint", "frame_too_large", "parse_timeout"]

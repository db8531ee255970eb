"""``BodyLimit``: ASGI middleware that bounds what an HTTP request body may cost, for every route.

Starlette's ``request.body()`` reads a body whole before anyone can look at its size, so a chunked body (no
``Content-Length``) of 400 MiB used to take the server to ~875 MB. This middleware counts bytes as the
server hands them to the app and raises ``FRAME_TOO_LARGE`` from ``receive()`` the moment the count passes
``max_bytes``, so at most one transport chunk beyond the limit is ever held. A declared ``Content-Length``
over the limit is refused before the app runs. The same wrapper gives the body a deadline
(``REQUEST_TIMEOUT``, 408): a client that sends headers and then trickles or stalls its body cannot hold the
request open.

Either way the response carries ``Connection: close``: the rest of the body is never read, so the connection
cannot carry another request, and closing it is what stops a client that keeps streaming.

Our endpoints turn the :class:`EnvError` raised from ``receive()`` into their usual error body; for routes that
let it escape (a mounted sub-app, FastAPI's own), the middleware answers with the same body itself.
WebSocket and lifespan scopes pass through untouched (WS frames have their own limit).
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openenv_harness.spec import EnvError, ErrorCode

from ._wire import dumps, http_status

_CLOSE = (b"connection", b"close")


def _too_large(max_bytes: int, declared: int | None = None) -> EnvError:
    size = f"body of {declared} bytes" if declared is not None else "body"
    return EnvError(
        ErrorCode.FRAME_TOO_LARGE,
        f"{size} exceeds max_frame_bytes={max_bytes}",
        {"max_frame_bytes": max_bytes},
    )


async def send_error(send: Send, err: EnvError) -> None:
    """Answer with the ``{"code", "message"}`` body of ``err`` and ``Connection: close``."""
    body = dumps(err.to_wire())
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        _CLOSE,
    ]
    await send({"type": "http.response.start", "status": http_status(err), "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimit:
    """Cut HTTP request bodies at ``max_bytes`` and give them ``timeout_s`` to arrive.

    Args:
        app: The wrapped ASGI app.
        max_bytes: Largest body accepted (``413 FRAME_TOO_LARGE`` beyond).
        timeout_s: Seconds from the app's first read until the body must be complete (``408``).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, timeout_s: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run one request with a counting, deadline-bound ``receive``."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.max_bytes
        declared = _declared_length(scope)
        if declared is not None and declared > max_bytes:
            await send_error(send, _too_large(max_bytes, declared))
            return
        received = 0
        body_done = False
        deadline: float | None = None
        refused: EnvError | None = None
        started = False

        async def limited_receive() -> Message:
            nonlocal received, body_done, deadline, refused
            if refused is not None:  # the app read on after we refused: keep refusing
                raise refused
            if body_done:  # only http.disconnect can come now: no deadline, no count
                return await receive()
            loop = asyncio.get_running_loop()
            if deadline is None:
                deadline = loop.time() + self.timeout_s
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                refused = EnvError(
                    ErrorCode.REQUEST_TIMEOUT,
                    f"the request body did not arrive within body_timeout_s={self.timeout_s}",
                    {"body_timeout_s": self.timeout_s},
                )
                raise refused from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    refused = _too_large(max_bytes)
                    raise refused
                body_done = not message.get("more_body", False)
            else:  # http.disconnect
                body_done = True
            return message

        async def closing_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if refused is not None:  # the unread rest of the body makes the connection unusable
                    message = {**message, "headers": [*message.get("headers", ()), _CLOSE]}
            await send(message)

        try:
            await self.app(scope, limited_receive, closing_send)
        except EnvError as err:
            if err is not refused or started:
                raise
            await send_error(send, err)
        except Exception as exc:  # an app that wrapped our error in its own exception
            if refused is None or started or not _caused_by(exc, refused):
                raise
            await send_error(send, refused)


def _caused_by(exc: BaseException, err: EnvError) -> bool:
    seen: Any = exc
    for _ in range(16):  # a bounded walk: cause chains can be cyclic
        if seen is None:
            return False
        if seen is err:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


__all__ = ["BodyLimit", "send_error"]

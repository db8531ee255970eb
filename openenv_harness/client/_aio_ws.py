"""The async client's WebSocket connection: ``picows`` frames, one awaitable reply at a time.

Why not ``websockets.asyncio``: an env session has exactly one request in flight, so a connection needs no
send lock, no message queue and no per-message assembler; with 64 sessions stepping concurrently those layers
(and pure-Python framing and masking) were about 40% of the rollout engine's CPU per turn. ``picows`` frames
and masks in compiled code and hands each frame to a callback, which here completes the one waiting future.
Everything the env client needs from a connection is kept: handshake refusals are told apart from unreachable
servers, a server's last messages before it closed are kept (its ``CAPACITY`` error is the reason, not the
drop), close codes and reasons are reported, fragmented messages are joined, and messages larger than
``max_size`` close the connection instead of filling memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from picows import (
    WSCloseCode,
    WSError,
    WSFrame,
    WSInvalidStatusError,
    WSListener,
    WSMsgType,
    WSTransport,
    ws_connect,
)

from ._blocking_ws import HandshakeRejected, WebSocketClosed

_LOGGER = "openenv_harness.client"
# picows logs every connect and disconnect at INFO (8,192 lines in a 4,096-session run): keep its warnings only.
logging.getLogger(f"picows.{_LOGGER}").setLevel(logging.WARNING)


class _Listener(WSListener):
    """Collects text messages and wakes the reader; records why the connection closed."""

    def __init__(self, max_size: int | None) -> None:
        self.max_size = max_size
        self.messages: deque[str] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.parts: list[bytes] = []
        self.size = 0
        self.closed = False
        self.close_code: int | None = None
        self.close_reason = ""

    def _wake(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind == WSMsgType.TEXT or kind == WSMsgType.BINARY or kind == WSMsgType.CONTINUATION:
            if frame.fin and not self.parts and kind != WSMsgType.CONTINUATION:
                self._deliver(transport, frame.get_payload_as_bytes())  # the common case: one frame
                return
            self.parts.append(frame.get_payload_as_bytes())
            self.size += frame.payload_size
            if self.max_size is not None and self.size > self.max_size:
                self._fail(transport, WSCloseCode.MESSAGE_TOO_BIG, "message too big")
            elif frame.fin:
                payload, self.parts, self.size = b"".join(self.parts), [], 0
                self._deliver(transport, payload)
        elif kind == WSMsgType.CLOSE:
            code = frame.get_close_code()
            self.close_code = None if code is None else int(code.value)
            self.close_reason = (
                frame.get_close_message().decode("utf-8", "replace") if frame.payload_size > 2 else ""
            )
            with contextlib.suppress(Exception):
                transport.send_close(WSCloseCode.OK)
            transport.disconnect()
        # PING is answered by picows itself (enable_auto_pong); PONG needs nothing.

    def _deliver(self, transport: WSTransport, payload: bytes) -> None:
        if self.max_size is not None and len(payload) > self.max_size:
            self._fail(transport, WSCloseCode.MESSAGE_TOO_BIG, "message too big")
            return
        self.messages.append(payload.decode("utf-8", "replace"))
        self._wake()

    def _fail(self, transport: WSTransport, code: WSCloseCode, reason: str) -> None:
        self.close_code, self.close_reason = (
            int(code.value),
            f"client: {reason} (limit {self.max_size} bytes)",
        )
        self.parts, self.size = [], 0
        with contextlib.suppress(Exception):
            transport.send_close(code, reason.encode())
        transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.closed = True
        self._wake()


class AsyncWebSocket:
    """One client WebSocket connection on the running event loop; open it with :meth:`connect`."""

    def __init__(self, transport: WSTransport, listener: _Listener) -> None:
        self._transport = transport
        self._listener = listener
        self._loop = asyncio.get_running_loop()

    @classmethod
    async def connect(cls, url: str, open_timeout_s: float, max_size: int | None) -> AsyncWebSocket:
        """Open ``ws://`` or ``wss://`` ``url``.

        Raises:
            HandshakeRejected: the server refused the upgrade with an HTTP status.
            OSError: the server cannot be reached.
            TimeoutError: TCP connect plus handshake took longer than ``open_timeout_s``.
        """
        limit = max_size if max_size is not None else 2**62
        try:
            async with asyncio.timeout(open_timeout_s):
                transport, listener = await ws_connect(
                    lambda: _Listener(max_size),
                    url,
                    websocket_handshake_timeout=open_timeout_s,
                    max_frame_size=limit,
                    enable_auto_pong=True,
                    logger_name=_LOGGER,
                )
        except WSInvalidStatusError as exc:
            raise HandshakeRejected(f"WebSocket handshake with {url} failed: {exc}") from None
        except WSError as exc:  # a handshake that broke off mid-way: as good as unreachable, retry
            raise ConnectionError(f"WebSocket handshake with {url} failed: {exc}") from None
        assert isinstance(listener, _Listener)
        return cls(transport, listener)

    @property
    def open(self) -> bool:
        """True while messages can be sent and received."""
        return not self._listener.closed and self._listener.close_code is None

    @property
    def close_reason(self) -> str:
        """Why the connection is closed (the server's close code and reason when it sent one)."""
        code, reason = self._listener.close_code, self._listener.close_reason
        if code is None:
            return "connection closed without a close frame"
        return f"connection closed (code {code}{': ' + reason if reason else ''})"

    def send(self, text: str) -> None:
        """Send one text message (written at once; nothing to await).

        Raises:
            WebSocketClosed: the connection is not open.
        """
        if not self.open:
            raise WebSocketClosed(self.close_reason)
        self._transport.send(WSMsgType.TEXT, text.encode())

    def time(self) -> float:
        """The event loop's clock (deadlines for :meth:`recv` are on it)."""
        return self._loop.time()

    async def recv(self, deadline: float) -> str:
        """The next message.

        Args:
            deadline: When to give up, on the loop's clock (:meth:`time`).

        Raises:
            TimeoutError: nothing arrived before ``deadline`` (the connection stays usable).
            WebSocketClosed: the connection closed before a message arrived.
        """
        listener = self._listener
        if listener.messages:
            return listener.messages.popleft()
        if listener.closed:
            raise WebSocketClosed(await self._disconnect_reason())
        waiter = self._loop.create_future()
        listener.waiter = waiter
        # A timer on the future, not asyncio.timeout(): one handle per receive instead of a context manager.
        timer = self._loop.call_at(deadline, _expire, waiter)
        try:
            while True:
                await waiter
                if listener.messages:
                    return listener.messages.popleft()
                if listener.closed:
                    raise WebSocketClosed(await self._disconnect_reason())
                waiter = self._loop.create_future()  # woken without a message (e.g. a close frame first)
                listener.waiter = waiter
        finally:
            timer.cancel()
            listener.waiter = None

    async def _disconnect_reason(self) -> str:
        """:attr:`close_reason`, after learning why picows itself dropped the connection (if it did).

        picows closes on protocol violations (e.g. a frame over ``max_size``) without a close frame from the
        server; the reason is the exception its ``wait_disconnected`` raises.
        """
        listener = self._listener
        if listener.close_code is None:
            try:
                await asyncio.wait_for(self._transport.wait_disconnected(), 0.05)
            except WSError as exc:
                code = exc.args[0] if exc.args and isinstance(exc.args[0], WSCloseCode) else None
                listener.close_code = None if code is None else int(code.value)
                listener.close_reason = f"client: {exc.args[-1] if exc.args else exc}"
            except TimeoutError:
                pass
        return self.close_reason

    def take_pending(self) -> list[str]:
        """Messages already received and not yet read (e.g. an error the server sent before closing)."""
        out = list(self._listener.messages)
        self._listener.messages.clear()
        return out

    async def close(self, timeout_s: float = 0.2) -> None:
        """Close politely (close frame, brief wait for the server's), then the socket. Idempotent."""
        if self.open:
            with contextlib.suppress(Exception):
                self._transport.send_close(WSCloseCode.OK)
        self._transport.disconnect()
        with contextlib.suppress(TimeoutError, WSError):
            await asyncio.wait_for(self._transport.wait_disconnected(), timeout_s)


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError("no reply before the deadline"))

"""A blocking WebSocket connection without threads: ``websockets``' Sans-I/O protocol over a plain socket.

Why not ``websockets.sync.client``: it starts one background reader thread per connection and hands every
message across threads, which costs a thread per client and a context switch per step. An env client only
ever has one request in flight and reads its reply right away, so the socket can be read in the caller's own
thread. ``websockets`` still does all the protocol work (handshake, framing, masking, ping/pong, close);
this module only moves bytes.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time

from websockets.client import ClientProtocol
from websockets.exceptions import InvalidURI
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

from ._keepalive import KEEPER, readable

_READ_SIZE = 65536


class WebSocketClosed(ConnectionError):
    """The connection is closed (by the peer, the network or us)."""


class HandshakeRejected(Exception):
    """The server answered the WebSocket upgrade with an HTTP error (no ``/ws`` there): retrying cannot help."""


class BlockingWebSocket:
    """One client WebSocket connection, read and written from the caller's thread.

    Args:
        url: ``ws://HOST:PORT/PATH``.
        open_timeout_s: Budget for TCP connect plus handshake.
        max_size: Largest message accepted from the server, in bytes (None for no limit).
        ssl_context: TLS settings for ``wss://`` (default: the system's trusted CAs, hostname checked).

    Raises:
        ConnectionError: the server cannot be reached.
        HandshakeRejected: the server refused the WebSocket upgrade.
        TimeoutError: the handshake did not finish in time.
    """

    def __init__(
        self,
        url: str,
        open_timeout_s: float = 10.0,
        max_size: int | None = 64 * 2**20,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        try:
            uri = parse_uri(url)
        except InvalidURI as exc:
            raise ValueError(str(exc)) from None
        self._proto = ClientProtocol(uri, max_size=max_size)
        self._fragments: list[bytes] = []
        self._fragment_text = False
        self._messages: list[str | bytes] = []
        self.io_lock = threading.Lock()
        """Held by whoever reads or writes the socket: the caller during a call, else the keep-alive thread."""
        deadline = time.monotonic() + open_timeout_s
        self._sock = socket.create_connection((uri.host, uri.port), timeout=open_timeout_s)
        try:
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if (
                uri.secure
            ):  # wss:// (e.g. a hosted Space behind HTTPS): TLS with certificate checks by default
                context = ssl_context or ssl.create_default_context()
                self._sock = context.wrap_socket(self._sock, server_hostname=uri.host)
            request = self._proto.connect()
            self._proto.send_request(request)
            self._flush()
            while self._proto.state is State.CONNECTING and self._proto.handshake_exc is None:
                self._read(deadline)
            if self._proto.handshake_exc is not None:
                raise HandshakeRejected(f"WebSocket handshake with {url} failed: {self._proto.handshake_exc}")
        except BaseException:
            self._sock.close()
            raise
        KEEPER.add(self)

    @property
    def open(self) -> bool:
        """True while messages can be sent and received."""
        return self._proto.state is State.OPEN

    def _flush(self) -> None:
        for chunk in self._proto.data_to_send():
            if chunk:
                self._sock.sendall(chunk)
            else:  # the protocol asks us to half-close (after a close frame)
                with contextlib.suppress(OSError):
                    self._sock.shutdown(socket.SHUT_WR)

    def _read(self, deadline: float | None) -> None:
        """Read once from the socket and feed the protocol; raise if nothing comes before ``deadline``."""
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no reply before the deadline")
            self._sock.settimeout(remaining)
        else:
            self._sock.settimeout(None)
        try:
            data = self._sock.recv(_READ_SIZE)
        except TimeoutError:
            raise
        except OSError as exc:
            self._proto.receive_eof()
            raise WebSocketClosed(f"connection lost: {exc}") from exc
        if data:
            self._proto.receive_data(data)
        else:
            self._proto.receive_eof()
        for event in self._proto.events_received():
            if isinstance(event, Frame):
                self._on_frame(event)
            elif isinstance(event, Response):
                pass  # handshake response; state already updated by the protocol
        # Pongs to pings and the closing handshake are queued by the protocol itself.
        with contextlib.suppress(OSError):
            self._flush()
        if not data and not self._messages:
            raise WebSocketClosed(self._close_reason())

    def _on_frame(self, frame: Frame) -> None:
        if frame.opcode is Opcode.TEXT or frame.opcode is Opcode.BINARY:
            self._fragment_text = frame.opcode is Opcode.TEXT
            self._fragments = [bytes(frame.data)]
        elif frame.opcode is Opcode.CONT:
            self._fragments.append(bytes(frame.data))
        else:
            return  # PING/PONG/CLOSE are handled by the protocol
        if frame.fin:
            payload = b"".join(self._fragments)
            self._fragments = []
            self._messages.append(payload.decode() if self._fragment_text else payload)

    def _close_reason(self) -> str:
        code = self._proto.close_code
        reason = self._proto.close_reason
        if code is None:
            return "connection closed by the server without a close frame"
        return f"connection closed by the server (code {code}{': ' + reason if reason else ''})"

    def send(self, text: str) -> None:
        """Send one text message.

        Raises:
            WebSocketClosed: the connection is not open.
        """
        if self._proto.state is not State.OPEN:
            raise WebSocketClosed(self._close_reason())
        self._proto.send_text(text.encode())
        try:
            self._flush()
        except OSError as exc:
            raise WebSocketClosed(f"connection lost: {exc}") from exc

    def recv(self, timeout_s: float | None = None) -> str | bytes:
        """Receive the next message.

        Args:
            timeout_s: Seconds to wait (None waits forever).

        Raises:
            TimeoutError: nothing arrived in time (the connection stays usable).
            WebSocketClosed: the connection closed.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self._messages:
            if self._proto.state is State.CLOSED:
                raise WebSocketClosed(self._close_reason())
            self._read(deadline)
        return self._messages.pop(0)

    @property
    def close_reason(self) -> str:
        """Why the connection is closed (the server's close code and reason when it sent one)."""
        return self._close_reason()

    def poll_idle(self) -> None:
        """Process bytes that arrived while nobody was reading (pings get their pongs); never blocks long.

        Called by the keep-alive thread with :attr:`io_lock` held.
        """
        pending = isinstance(self._sock, ssl.SSLSocket) and self._sock.pending() > 0
        if self._proto.state is State.OPEN and (pending or readable(self._sock.fileno())):
            with contextlib.suppress(TimeoutError, WebSocketClosed):
                self._read(time.monotonic() + 0.05)

    def take_pending(self) -> list[str | bytes]:
        """Messages already received and not yet read (e.g. an error the server sent before closing)."""
        out, self._messages = self._messages, []
        return out

    def close(self, timeout_s: float = 1.0) -> None:
        """Close politely (close frame, wait briefly for the server's), then the socket. Idempotent."""
        KEEPER.discard(self)
        with self.io_lock:  # the keep-alive thread may be visiting this connection right now
            try:
                if self._proto.state is State.OPEN:
                    self._proto.send_close(1000)
                    self._flush()
                    deadline = time.monotonic() + timeout_s
                    while self._proto.state is not State.CLOSED:
                        self._read(deadline)
            except (OSError, WebSocketClosed):
                pass
            finally:
                self._sock.close()

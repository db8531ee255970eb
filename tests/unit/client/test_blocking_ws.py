"""The thread-free blocking WebSocket against a plain ``websockets`` server on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from websockets.sync.server import Server, ServerConnection, serve

from openenv_harness.client._blocking_ws import BlockingWebSocket, HandshakeRejected, WebSocketClosed


def _handler(ws: ServerConnection) -> None:
    for message in ws:
        if message == "fragments":
            ws.send(iter(["ab", "cd", "ef"]))  # one message in three frames
        elif message == "ping-me":
            ws.ping().wait(2)  # answered by the client's protocol while it reads
            ws.send("ponged")
        elif message == "bye":
            ws.close(4000, "asked to")
            return
        else:
            ws.send(message)


@pytest.fixture()
def server() -> Iterator[str]:
    srv: Server = serve(_handler, "127.0.0.1", 0, compression=None)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"ws://127.0.0.1:{srv.socket.getsockname()[1]}/"
    finally:
        srv.shutdown()
        thread.join(5)


def test_roundtrip_large_and_fragmented(server: str) -> None:
    ws = BlockingWebSocket(server)
    big = "x" * 300_000  # several socket reads
    ws.send(big)
    assert ws.recv(5) == big
    ws.send("fragments")
    assert ws.recv(5) == "abcdef"
    ws.send("ping-me")
    assert ws.recv(5) == "ponged"
    ws.close()
    assert not ws.open


def test_timeout_keeps_connection(server: str) -> None:
    ws = BlockingWebSocket(server)
    with pytest.raises(TimeoutError):
        ws.recv(0.05)
    ws.send("still here")
    assert ws.recv(5) == "still here"
    ws.close()


def test_server_close_is_reported(server: str) -> None:
    ws = BlockingWebSocket(server)
    ws.send("bye")
    with pytest.raises(WebSocketClosed, match="4000"):
        ws.recv(5)
    with pytest.raises(WebSocketClosed):
        ws.send("again")
    ws.close()


def test_refused_and_rejected() -> None:
    with pytest.raises(OSError):
        BlockingWebSocket("ws://127.0.0.1:9/", open_timeout_s=1)
    with pytest.raises(ValueError, match="wss"):
        BlockingWebSocket("wss://127.0.0.1:9/")
    http = serve(lambda ws: None, "127.0.0.1", 0, process_request=lambda conn, req: conn.respond(404, "no"))
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(HandshakeRejected):
            BlockingWebSocket(f"ws://127.0.0.1:{http.socket.getsockname()[1]}/")
    finally:
        http.shutdown()
        thread.join(5)

"""A plain ``websockets`` server on loopback for the client's WebSocket connections (sync and async)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from websockets.sync.server import Server, ServerConnection, serve


def echo_handler(ws: ServerConnection) -> None:
    for message in ws:
        if message == "fragments":
            ws.send(iter(["ab", "cd", "ef"]))  # one message in three frames
        elif message == "ping-me":
            ws.ping().wait(2)  # answered by the client's protocol while it reads
            ws.send("ponged")
        elif message.startswith("big:"):
            ws.send("y" * int(message[4:]))
        elif message == "error-then-close":
            ws.send('{"type":"error","data":{"code":"CAPACITY","message":"full"}}')
            ws.close(1013, "full")
            return
        elif message == "bye":
            ws.close(4000, "asked to")
            return
        else:
            ws.send(message)


@pytest.fixture()
def server() -> Iterator[str]:
    srv: Server = serve(echo_handler, "127.0.0.1", 0, compression=None)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"ws://127.0.0.1:{srv.socket.getsockname()[1]}/"
    finally:
        srv.shutdown()
        thread.join(5)

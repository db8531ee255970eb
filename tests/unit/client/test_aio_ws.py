"""The async client's picows WebSocket against a plain ``websockets`` server on loopback."""

from __future__ import annotations

import asyncio

import pytest
from websockets.sync.server import serve

from openenv_harness.client._aio_ws import AsyncWebSocket, HandshakeRejected, WebSocketClosed


async def _open(url: str, max_size: int | None = 2**20) -> AsyncWebSocket:
    return await AsyncWebSocket.connect(url, open_timeout_s=5, max_size=max_size)


async def test_roundtrip_large_fragmented_and_pinged(server: str) -> None:
    ws = await _open(server)
    big = "x" * 300_000  # several socket reads
    ws.send(big)
    assert await ws.recv(ws.time() + 5) == big
    ws.send("fragments")
    assert await ws.recv(ws.time() + 5) == "abcdef"  # three frames, one message
    ws.send("ping-me")
    assert await ws.recv(ws.time() + 5) == "ponged"  # the server's ping got its pong
    await ws.close()
    assert not ws.open


async def test_timeout_keeps_connection_and_late_message_is_kept(server: str) -> None:
    ws = await _open(server)
    with pytest.raises(TimeoutError):
        await ws.recv(ws.time() + 0.05)
    ws.send("one")
    ws.send("two")
    assert await ws.recv(ws.time() + 5) == "one"
    assert await ws.recv(ws.time() + 5) == "two"
    await ws.close()


async def test_server_close_is_reported_with_code_and_reason(server: str) -> None:
    ws = await _open(server)
    ws.send("bye")
    with pytest.raises(WebSocketClosed, match=r"4000.*asked to"):
        await ws.recv(ws.time() + 5)
    with pytest.raises(WebSocketClosed):
        ws.send("again")
    await ws.close()


async def test_last_message_before_close_is_kept(server: str) -> None:
    """A server's error frame right before it closes is the reason, so it must survive the close."""
    ws = await _open(server)
    ws.send("error-then-close")
    for _ in range(100):
        if not ws.open:
            break
        await asyncio.sleep(0.02)
    assert not ws.open and "1013" in ws.close_reason
    pending = ws.take_pending()
    assert len(pending) == 1 and "CAPACITY" in pending[0]
    await ws.close()


async def test_message_over_max_size_closes_instead_of_buffering(server: str) -> None:
    ws = await _open(server, max_size=1000)
    ws.send("big:999")
    assert await ws.recv(ws.time() + 5) == "y" * 999
    ws.send("big:50000")
    with pytest.raises(WebSocketClosed, match="code 1009"):
        await ws.recv(ws.time() + 5)
    await ws.close()


async def test_refused_and_rejected() -> None:
    with pytest.raises(OSError):
        await AsyncWebSocket.connect("ws://127.0.0.1:9/", open_timeout_s=1, max_size=None)
    http = serve(lambda ws: None, "127.0.0.1", 0, process_request=lambda conn, req: conn.respond(404, "no"))
    loop = asyncio.get_running_loop()
    fut = loop.run_in_executor(None, http.serve_forever)
    try:
        with pytest.raises(HandshakeRejected, match="404"):
            await _open(f"ws://127.0.0.1:{http.socket.getsockname()[1]}/")
    finally:
        http.shutdown()
        await fut

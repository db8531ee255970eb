"""The thread-free blocking WebSocket against a plain ``websockets`` server on loopback."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from pathlib import Path

import pytest
from websockets.sync.server import serve

from openenv_harness.client._blocking_ws import BlockingWebSocket, HandshakeRejected, WebSocketClosed
from tests.unit.client.conftest import echo_handler


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
    with pytest.raises(ValueError):
        BlockingWebSocket("http://not-a-ws-url/")
    http = serve(lambda ws: None, "127.0.0.1", 0, process_request=lambda conn, req: conn.respond(404, "no"))
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(HandshakeRejected):
            BlockingWebSocket(f"ws://127.0.0.1:{http.socket.getsockname()[1]}/")
    finally:
        http.shutdown()
        thread.join(5)


def test_tls(tmp_path: Path) -> None:
    """wss:// with certificate verification, against a TLS websockets server with a self-signed cert."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not available to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    srv = serve(echo_handler, "127.0.0.1", 0, ssl=server_ctx, compression=None)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    url = f"wss://127.0.0.1:{srv.socket.getsockname()[1]}/"
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            BlockingWebSocket(url)  # default context: the self-signed cert is not trusted
        ws = BlockingWebSocket(url, ssl_context=ssl.create_default_context(cafile=str(cert)))
        big = "y" * 100_000
        ws.send(big)
        assert ws.recv(5) == big
        ws.send("ping-me")
        assert ws.recv(5) == "ponged"
        ws.close()
    finally:
        srv.shutdown()
        thread.join(5)

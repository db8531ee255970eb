"""Hostile HTTP clients against a real server on loopback: oversized chunked bodies, stalled heads and
bodies, floods of silent connections, absurd reward weights."""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from openenv_harness.server import ServerLimits, create_app, serve_in_thread

MIB = 1 << 20


def _addr(base: str) -> tuple[str, int]:
    parts = urlsplit(base)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def read_response(sock: socket.socket, timeout_s: float = 10.0) -> tuple[int, bytes, bytes]:
    """``(status, head, body)`` of one HTTP/1.1 response (status 0: the server closed without one)."""
    sock.settimeout(timeout_s)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep and b"content-length:" in head.lower():
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                if len(body) >= length:
                    break
    except ConnectionResetError:
        pass
    if not data:
        return 0, b"", b""
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), head, body


def post_chunked(base: str, path: str, total: int, chunk: int = 64 * 1024) -> tuple[int, bytes, bytes, int]:
    """POST ``total`` bytes as a chunked body (no Content-Length); stop sending once the server answers.

    Returns ``(status, head, body, bytes_sent)``.
    """
    sock = socket.create_connection(_addr(base), timeout=10)
    try:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        frame = f"{chunk:x}\r\n".encode() + b"a" * chunk + b"\r\n"
        sent = 0
        while sent < total:
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += chunk
            if select.select([sock], [], [], 0)[0]:  # the server answered: stop, as a real client would
                break
        else:
            sock.sendall(b"0\r\n\r\n")
        return (*read_response(sock), sent)
    finally:
        sock.close()


def vm_hwm_kib(pid: int) -> int:
    """Peak resident set size of a process (``VmHWM``), in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.fixture()
def server_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "openenv_harness.server", "--env", "echo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("LISTENING "), line
        yield proc, line.split()[1]
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.mark.parametrize("path", ["/step", "/reset", "/state", "/close", "/config"])
def test_chunked_body_is_cut_at_the_limit_with_flat_memory(
    server_process: tuple[subprocess.Popen[str], str], path: str
) -> None:
    proc, base = server_process
    before = vm_hwm_kib(proc.pid)
    status, head, body, sent = post_chunked(base, path, 64 * MIB)
    grown_mib = (vm_hwm_kib(proc.pid) - before) / 1024
    assert grown_mib < 16, f"peak RSS grew by {grown_mib:.1f} MiB for a 1 MiB limit"
    assert status == 413, (status, head, body)
    assert b'"FRAME_TOO_LARGE"' in body and b"connection: close" in head.lower()
    assert sent < 32 * MIB, "the server read on far past the limit"
    assert httpx.get(base + "/health", timeout=5).status_code == 200


def test_declared_oversized_body_is_refused_before_reading(
    server_process: tuple[subprocess.Popen[str], str],
) -> None:
    _, base = server_process
    sock = socket.create_connection(_addr(base), timeout=10)
    with sock:
        sock.sendall(b"POST /step HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000000\r\n\r\n")
        status, _, body = read_response(sock)
    assert status == 413 and b"1000000000 bytes exceeds max_frame_bytes" in body


def test_body_within_the_limit_still_works_chunked(server_process: tuple[subprocess.Popen[str], str]) -> None:
    _, base = server_process

    def gen() -> Iterator[bytes]:
        yield b'{"seed": 1,'
        yield b' "episode_id": "chunky"}'

    r = httpx.post(base + "/reset", content=gen(), timeout=10)
    assert r.status_code == 200 and r.json()["session_id"]


@pytest.fixture()
def limited() -> Iterator[tuple[str, FastAPI]]:
    app = create_app(
        "echo",
        limits=ServerLimits(max_connections=4, header_timeout_s=0.5, body_timeout_s=0.5),
    )
    with serve_in_thread(app) as base:
        yield base, app


def _closed_by_server(sock: socket.socket, within_s: float) -> bool:
    sock.settimeout(within_s)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_half_open_heads_are_closed_after_header_timeout(limited: tuple[str, FastAPI]) -> None:
    base, _ = limited
    silent = socket.create_connection(_addr(base))
    partial = socket.create_connection(_addr(base))
    partial.sendall(b"POST /step HTTP/1.1\r\nHost: t\r\n")  # and never the blank line
    t0 = time.monotonic()
    with silent, partial:
        assert _closed_by_server(silent, 5) and _closed_by_server(partial, 5)
    assert time.monotonic() - t0 < 3
    assert httpx.get(base + "/health", timeout=5).status_code == 200


def test_stalled_body_gets_408_after_body_timeout(limited: tuple[str, FastAPI]) -> None:
    base, _ = limited
    sock = socket.create_connection(_addr(base))
    with sock:
        sock.sendall(b'POST /reset HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{"seed":')
        t0 = time.monotonic()
        status, head, body = read_response(sock, timeout_s=5)
        assert (status, b"REQUEST_TIMEOUT" in body) == (408, True), (status, body)
        assert time.monotonic() - t0 < 3 and b"connection: close" in head.lower()
        assert _closed_by_server(sock, 5)


def test_connection_cap_closes_the_flood_not_the_new_client(limited: tuple[str, FastAPI]) -> None:
    base, _ = limited
    flood = [socket.create_connection(_addr(base)) for _ in range(20)]
    try:
        time.sleep(0.3)  # under the header timeout: only the cap can close them
        closed = sum(_closed_by_server(s, 0.2) for s in flood)
        assert closed >= 16, f"only {closed} of 20 silent connections closed with max_connections=4"
        r = httpx.get(base + "/health", timeout=5)
        assert r.status_code == 200
    finally:
        for s in flood:
            s.close()


def test_absurd_weights_are_refused_and_rewards_stay_finite() -> None:
    app = create_app("echo")
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=10) as c:
        r = c.post("/config", json={"weights": {"length": 1.79e308}})
        assert r.status_code == 422 and r.json()["code"] == "CONFIG_INVALID"
        assert "weights.length: weights must be <= 1e+06" in r.json()["message"]
        assert c.post("/config", json={"weights": {"length": 1e6}}).status_code == 200
        sid = c.post("/reset", json={}).json()["session_id"]
        out = c.post("/step", json={"action": {"message": "abc"}}, headers={"X-Session-Id": sid}).json()
        assert out["reward"] == 3e6

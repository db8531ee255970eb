"""Idle connections: pings are answered while the caller is away; a reaped session fails loudly."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from openenv_harness.client import AsyncEnvClient, EnvClient
from openenv_harness.client._keepalive import KEEPER
from openenv_harness.runtime import LocalProcessProvider
from openenv_harness.server import bind_socket, create_app, make_server, url_of
from openenv_harness.spec import EnvError, ErrorCode


@pytest.fixture()
def pinging_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Our server, pinging every 0.2 s and dropping a connection whose pong is 1.5 s late.

    The keep-alive thread visits idle connections every 2 s by default (uvicorn's ping timeout is 20 s);
    here every 0.2 s, so the margin stays wide on a loaded machine.
    """
    monkeypatch.setattr(KEEPER, "interval_s", 0.2)
    app = create_app("echo", env_kwargs={"max_steps": 100})
    sock = bind_socket()
    server = make_server(app, ws_ping_interval=0.2, ws_ping_timeout=1.5)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.mark.slow
def test_idle_sync_client_answers_pings(pinging_server: str) -> None:
    with EnvClient(pinging_server) as env:
        env.reset(seed=1)
        env.step({"message": "before"})
        time.sleep(3.5)  # longer than a ping timeout while the caller does not read the socket
        assert env.step({"message": "after"}).model_extra["message"] == "after"  # type: ignore[index]
        assert env.state().step_count == 2
    # One keep-alive thread at most, however many clients.
    clients = [EnvClient(pinging_server) for _ in range(5)]
    for c in clients:
        c.reset()
    assert sum(t.name == "openenv-ws-keepalive" for t in threading.enumerate()) == 1
    for c in clients:
        c.close()


def test_idle_async_client_answers_pings(pinging_server: str) -> None:
    async def main() -> str:
        async with AsyncEnvClient(pinging_server) as env:
            await env.reset(seed=1)
            await asyncio.sleep(2.5)
            return (await env.step({"message": "after"})).model_extra["message"]  # type: ignore[index]

    assert asyncio.run(main()) == "after"


def test_reaped_session_is_connection_lost_then_reset_recovers() -> None:
    with LocalProcessProvider("echo", idle_timeout_s=0.5) as provider:
        env = provider.client()
        env.reset()
        time.sleep(1.5)  # the server's reaper closes the idle session
        with pytest.raises(EnvError) as info:
            env.step({"message": "late"})
        assert info.value.code == ErrorCode.CONNECTION_LOST
        assert "reset" in info.value.message
        env.reset()
        assert env.step({"message": "again"}).message == "again"
        env.close()


def test_reaped_session_async_is_connection_lost() -> None:
    with LocalProcessProvider("echo", idle_timeout_s=0.5) as provider:

        async def main() -> str:
            async with provider.async_client() as env:
                await env.reset()
                await asyncio.sleep(1.5)
                with pytest.raises(EnvError) as info:
                    await env.step({"message": "late"})
                assert info.value.code == ErrorCode.CONNECTION_LOST
                await env.reset()
                return (await env.step({"message": "again"})).message

        assert asyncio.run(main()) == "again"

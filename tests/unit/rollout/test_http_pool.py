"""ShardedAsyncHTTP against a real loopback server that counts the requests it holds at once."""

import asyncio
import socket
import threading
import time

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from openenv_harness.rollout._http_pool import ShardedAsyncHTTP


@pytest.fixture(scope="module")
def counting_server():
    state = {"now": 0, "max": 0, "peers": set()}

    async def echo(request: Request) -> JSONResponse:
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        state["peers"].add(request.client.port)
        await asyncio.sleep(0.02)
        state["now"] -= 1
        return JSONResponse(await request.json())

    app = Starlette(routes=[Route("/echo", echo, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/echo", state
    server.should_exit = True
    thread.join(10)


@pytest.mark.parametrize(("concurrency", "shards"), [(1, 1), (64, 1), (65, 2), (150, 3)])
def test_sizes_split_the_concurrency_exactly(concurrency, shards):
    async def sizes():
        async with ShardedAsyncHTTP(concurrency) as http:
            return http.sizes

    got = asyncio.run(sizes())
    assert len(got) == shards and sum(got) == concurrency and max(got) - min(got) <= 1


def test_requests_in_flight_never_exceed_the_concurrency(counting_server):
    url, state = counting_server
    state.update(now=0, max=0, peers=set())

    async def run():
        async with ShardedAsyncHTTP(100, shard_size=16, timeout=30) as http:
            replies = await asyncio.gather(*(http.post(url, json={"i": i}) for i in range(200)))
            return [r.json()["i"] for r in replies]

    assert asyncio.run(run()) == list(range(200))  # every reply matches its request, in order
    assert 16 < state["max"] <= 100  # the cap holds, and more than one pool's worth ran at once
    assert len(state["peers"]) <= 100  # no pool opened more connections than its share


def test_bad_arguments():
    with pytest.raises(ValueError, match="concurrency"):
        ShardedAsyncHTTP(0)

"""Thousands of concurrent HTTP requests to one endpoint, at a cost per request that does not grow with them.

httpx's connection pool (httpcore 1.x) re-matches every queued request against every connection on each pool
event (a request added, a response done), and re-counts its connections for each idle one. With more requests
in flight than the pool has connections, the queue makes the client's CPU per request grow with the number in
flight (measured, ``bench/scale_bench.py --http-levels``: 9 ms at 256, 45 ms at 1,024, requests failing with
``PoolTimeout`` at 2,048); a pool sized to the concurrency removes the queue but still scans every connection
per event (12 ms per request at 4,096). :class:`ShardedAsyncHTTP` instead spreads requests round-robin over
several small pools of at most :data:`SHARD_CONNECTIONS` connections, each with its own cap on requests in
flight, so no pool ever queues and each event scans a handful of connections: ~3.5 ms per request from 256 to
4,096 on the same machine.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from typing import Any

import httpx

SHARD_CONNECTIONS = 64
"""Connections per pool: small enough that a pool's per-event scans stay cheap."""


class ShardedAsyncHTTP:
    """At most ``concurrency`` requests in flight, over ``ceil(concurrency / shard_size)`` httpx pools.

    Use on one event loop, as an async context manager (or call :meth:`aclose`).

    Args:
        concurrency: Requests in flight at once (split exactly across the pools).
        shard_size: Connections per pool.
        **client_kwargs: ``httpx.AsyncClient`` arguments (``timeout``, ``headers``, ``trust_env``...); one TLS
            context is built for all pools unless ``verify`` is given.
    """

    def __init__(self, concurrency: int, shard_size: int = SHARD_CONNECTIONS, **client_kwargs: Any) -> None:
        if concurrency < 1 or shard_size < 1:
            raise ValueError(f"concurrency and shard_size must be >= 1, got {concurrency} and {shard_size}")
        shards = math.ceil(concurrency / shard_size)
        sizes = [concurrency // shards + (1 if i < concurrency % shards else 0) for i in range(shards)]
        if "verify" not in client_kwargs:  # a TLS context costs ~40 ms to build: one for every pool
            client_kwargs["verify"] = httpx.create_ssl_context(trust_env=client_kwargs.get("trust_env", True))
        self.sizes = sizes
        self._clients = [
            httpx.AsyncClient(
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size), **client_kwargs
            )
            for size in sizes
        ]
        self._slots = [asyncio.Semaphore(size) for size in sizes]
        self._turn = itertools.count()

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request through the next pool, once that pool has a free slot."""
        i = next(self._turn) % len(self._clients)
        async with self._slots[i]:
            return await self._clients[i].request(method, url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        """``POST`` through :meth:`request`."""
        return await self.request("POST", url, **kwargs)

    async def aclose(self) -> None:
        """Close every pool."""
        await asyncio.gather(*(c.aclose() for c in self._clients))

    async def __aenter__(self) -> ShardedAsyncHTTP:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

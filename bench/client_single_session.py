"""Single-session client throughput: steps/s and latency of each client against one echo server.

    python bench/client_single_session.py [--steps 3000]

Starts one echo server (``python -m openenv_harness.server``) on loopback, then drives one session at a time
with: our sync WS client, our async WS client, our HTTP client, ``websockets.sync.client`` doing the same
frames by hand (threaded reference), OpenEnv's own sync client (``openenv`` package), and the in-process
provider (no socket); then OpenEnv's own server (``bench/_servers.py openenv``) with our client and with
OpenEnv's. Client and server share this machine's cores, so the numbers are end-to-end steps/s of
one sequential session, not server capacity (see the server benchmark for that). Writes JSON to
``outputs/bench/client_single_session.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openenv_harness.client import AsyncEnvClient, EnvClient, HTTPEnvClient
from openenv_harness.runtime import InProcessProvider, LocalProcessProvider


def _measure(step: Callable[[], Any], n: int) -> dict[str, float]:
    for _ in range(min(200, n // 10)):  # warm-up
        step()
    lat = []
    t0 = time.perf_counter()
    for _ in range(n):
        s = time.perf_counter()
        step()
        lat.append(time.perf_counter() - s)
    total = time.perf_counter() - t0
    lat.sort()
    return {
        "steps_per_s": n / total,
        "p50_us": statistics.median(lat) * 1e6,
        "p99_us": lat[int(0.99 * (n - 1))] * 1e6,
    }


def bench_sync(url: str, n: int) -> dict[str, float]:
    with EnvClient(url) as env:
        env.reset(seed=0)
        return _measure(lambda: env.step({"message": "x"}), n)


def bench_http(url: str, n: int) -> dict[str, float]:
    with HTTPEnvClient(url) as env:
        env.reset(seed=0)
        return _measure(lambda: env.step({"message": "x"}), n)


def bench_async(url: str, n: int) -> dict[str, float]:
    async def main() -> dict[str, float]:
        async with AsyncEnvClient(url) as env:
            await env.reset(seed=0)
            lat = []
            t0 = time.perf_counter()
            for _ in range(n):
                s = time.perf_counter()
                await env.step({"message": "x"})
                lat.append(time.perf_counter() - s)
            total = time.perf_counter() - t0
            lat.sort()
            return {
                "steps_per_s": n / total,
                "p50_us": statistics.median(lat) * 1e6,
                "p99_us": lat[int(0.99 * (n - 1))] * 1e6,
            }

    return asyncio.run(main())


def bench_websockets_sync(url: str, n: int) -> dict[str, float]:
    from websockets.sync.client import connect

    with connect(url.replace("http://", "ws://") + "/ws", compression=None) as ws:
        ws.send('{"type":"reset","data":{"seed":0}}')
        ws.recv()
        counter = iter(range(10**9))

        def step() -> None:
            ws.send(json.dumps({"type": "step", "data": {"message": "x"}, "id": next(counter)}))
            json.loads(ws.recv())

        return _measure(step, n)


def bench_openenv_client(url: str, n: int) -> dict[str, float] | None:
    try:
        from openenv.core.generic_client import GenericEnvClient
    except ImportError:
        return None
    with GenericEnvClient(base_url=url).sync() as env:
        env.reset(seed=0)
        return _measure(lambda: env.step({"message": "x"}), n)


def bench_inprocess(n: int) -> dict[str, float]:
    with InProcessProvider("echo", max_steps=10**9).client() as env:
        env.reset(seed=0)
        return _measure(lambda: env.step({"message": "x"}), n)


def _with_server_cpu(pid: int, fn: Callable[[], dict[str, float] | None], n: int) -> dict[str, float] | None:
    """Run one case and add the server's CPU time per step (from /proc, so the client's cost is excluded)."""
    from _servers import cpu_seconds

    before = cpu_seconds(pid)
    result = fn()
    if result is not None:
        warmup = min(200, n // 10)
        result["server_cpu_us"] = (cpu_seconds(pid) - before) / (n + warmup) * 1e6
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args()
    n = args.steps
    results: dict[str, Any] = {}
    with LocalProcessProvider("echo", env_kwargs={"max_steps": 10**9}) as provider:
        url, pid = provider.urls[0], provider.pids[0]
        cases: dict[str, Callable[[], dict[str, float] | None]] = {
            "ours sync WS (EnvClient) -> ours": lambda: bench_sync(url, n),
            "ours async WS (AsyncEnvClient) -> ours": lambda: bench_async(url, n),
            "ours HTTP (HTTPEnvClient) -> ours": lambda: bench_http(url, n),
            "websockets.sync.client by hand -> ours": lambda: bench_websockets_sync(url, n),
            "OpenEnv GenericEnvClient.sync() -> ours": lambda: bench_openenv_client(url, n),
        }
        for name, case in cases.items():
            results[name] = _with_server_cpu(pid, case, n)
    try:
        from _servers import launch

        openenv_server = launch("openenv", core=None)
    except Exception as exc:  # openenv not installed: skip the reference rows
        print(f"(OpenEnv server rows skipped: {exc})")
    else:
        try:
            oe_url, oe_pid = openenv_server.url, openenv_server.proc.pid
            results["ours sync WS (EnvClient) -> OpenEnv"] = _with_server_cpu(
                oe_pid, lambda: bench_sync(oe_url, n), n
            )
            results["OpenEnv GenericEnvClient.sync() -> OpenEnv"] = _with_server_cpu(
                oe_pid, lambda: bench_openenv_client(oe_url, n), n
            )
        finally:
            openenv_server.stop()
    results["in-process (InProcessProvider)"] = bench_inprocess(n)
    print(f"load average before/after: {os.getloadavg()[0]:.1f}")
    header = (
        f"{'client -> server (one session, echo, loopback)':46} {'steps/s':>9} {'p50 us':>8} {'p99 us':>8}"
    )
    print(header + f" {'srv CPU us/step':>16}")
    for name, r in results.items():
        if r is None:
            print(f"{name:46} {'n/a':>9}")
            continue
        cpu = f"{r['server_cpu_us']:16.0f}" if "server_cpu_us" in r else f"{'-':>16}"
        print(f"{name:46} {r['steps_per_s']:9.0f} {r['p50_us']:8.0f} {r['p99_us']:8.0f} {cpu}")
    out = Path("outputs/bench/client_single_session.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"steps": n, "loadavg_1m": os.getloadavg()[0], "results": results}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

"""Rubric overhead per step and POST /config round trip to a pool of local env servers.

    python bench/rubric_bench.py [--servers 8] [--pushes 50] [--skip-servers]

1. ``score()`` of a 3-component ``WeightedSum`` as an environment calls it each step (components, weights,
   errors, nested diagnostics), with (a) constant leaves = pure framework overhead, (b) the shipped concrete
   rubrics (numeric match, regex format, length penalty), (c) ``to_metadata()`` included. Target: (a) < 20 us.
2. POST /config to every one of 8 ``LocalProcessProvider`` servers, waiting for all answers: through
   ``provider.push_config(update)`` (the provider's own long-lived ``ControlAPI`` per server; its first push,
   which opens the connections, is reported apart as ``provider_first_push_ms``), through one long-lived
   ``ControlAPI`` per server built here (threads) and through one kept-alive async httpx client.
   Target: < 50 ms for all 8.

Prints one table and writes ``bench/results/rubric.json``. Run it on a quiet machine; it is short.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
import timeit
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openenv_harness.rubric import Rubric, WeightedSum
from rubrics.format import RegexMatch
from rubrics.length import LengthPenalty
from rubrics.match import NumericMatch


class _Const(Rubric):
    @dataclass
    class Config:
        value: float = 1.0

    def forward(self, action: Any, observation: Any) -> float:
        return self.config.value


def _per_call_us(fn: Any, number: int, repeat: int = 7) -> dict[str, float]:
    fn()
    runs = [t / number * 1e6 for t in timeit.repeat(fn, number=number, repeat=repeat)]
    return {"median_us": statistics.median(runs), "min_us": min(runs)}


def bench_rubric(number: int) -> dict[str, dict[str, float]]:
    weights = {"a": 0.5, "b": 0.3, "c": 0.2}
    const = WeightedSum({"a": _Const(value=1.0), "b": _Const(value=0.5), "c": _Const(value=-0.25)})
    real = WeightedSum(
        {
            "a": NumericMatch(),
            "b": RegexMatch(pattern=r"-?\d+", mode="fullmatch"),
            "c": LengthPenalty(max_length=8),
        }
    )
    real.reset(context={"answer": "42"})
    action = {"answer": "The answer is 42"}
    return {
        "score_3_const": _per_call_us(lambda: const.score(action, None, weights=weights), number),
        "score_3_concrete": _per_call_us(lambda: real.score(action, None, weights=weights), number),
        "score_3_concrete+metadata": _per_call_us(
            lambda: real.score(action, None, weights=weights).to_metadata(), number
        ),
        "call_3_const (no RewardResult)": _per_call_us(lambda: const(action, None), number),
    }


def bench_push(n_servers: int, pushes: int) -> dict[str, Any]:
    from openenv_harness.runtime import LocalProcessProvider

    t0 = time.perf_counter()
    with LocalProcessProvider("echo", n_servers=n_servers, token="bench") as provider:
        startup_s = time.perf_counter() - t0
        s = time.perf_counter()
        provider.push_config({"weights": {"length": 0.05}})  # creates the clients, opens the connections
        first_ms = (time.perf_counter() - s) * 1e3
        lat = []
        for i in range(pushes):
            s = time.perf_counter()
            snaps = provider.push_config({"weights": {"length": 0.1 + i}})
            lat.append((time.perf_counter() - s) * 1e3)
            assert len(snaps) == n_servers and all(x["config"]["weights"]["length"] == 0.1 + i for x in snaps)
        kept = asyncio.run(_push_kept_alive(provider.urls, "bench", pushes))
        kept_sync = _push_kept_control_apis(provider.urls, "bench", pushes)
    return {
        "servers": n_servers,
        "pushes": pushes,
        "startup_s": startup_s,
        "provider_first_push_ms": first_ms,
        "provider_push_config": _summary(lat),
        "kept_alive_async": _summary(kept),
        "kept_control_apis_threads": _summary(kept_sync),
    }


def _push_kept_control_apis(urls: list[str], token: str, pushes: int) -> list[float]:
    """The same pushes through one long-lived ``ControlAPI`` per server and a thread pool.

    The same shape as ``Provider.push_config`` (which now keeps its clients too), built by hand as a reference.
    """
    from concurrent.futures import ThreadPoolExecutor

    from openenv_harness.client import ControlAPI

    apis = [ControlAPI(u, token=token) for u in urls]
    lat = []
    with ThreadPoolExecutor(max_workers=len(apis)) as pool:
        for i in range(pushes + 1):
            body = {"weights": {"length": 2.0 + i}}
            s = time.perf_counter()
            snaps = list(pool.map(lambda api, b=body: api.push_config(b), apis))
            if i:  # the first push opens the connections
                lat.append((time.perf_counter() - s) * 1e3)
            assert all(x["config"]["weights"]["length"] == 2.0 + i for x in snaps)
    for api in apis:
        api.close()
    return lat


def _summary(lat_ms: list[float]) -> dict[str, float]:
    lat = sorted(lat_ms)
    return {"p50_ms": statistics.median(lat), "p95_ms": lat[int(0.95 * (len(lat) - 1))], "max_ms": lat[-1]}


async def _push_kept_alive(urls: list[str], token: str, pushes: int) -> list[float]:
    """The same pushes over one kept-alive async client, all servers concurrently (what a trainer can do)."""
    import httpx

    async with httpx.AsyncClient(trust_env=False, headers={"Authorization": f"Bearer {token}"}) as client:

        async def push(i: int) -> None:
            body = {"weights": {"length": 1.0 + i}}
            answers = await asyncio.gather(*(client.post(f"{u}/config", json=body) for u in urls))
            assert all(
                a.status_code == 200 and a.json()["config"]["weights"]["length"] == 1.0 + i for a in answers
            )

        await push(0)  # open the connections
        lat = []
        for i in range(pushes):
            s = time.perf_counter()
            await push(i)
            lat.append((time.perf_counter() - s) * 1e3)
        return lat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=8)
    parser.add_argument("--pushes", type=int, default=50)
    parser.add_argument("--number", type=int, default=20000, help="calls per timing run")
    parser.add_argument("--skip-servers", action="store_true")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "rubric.json"))
    args = parser.parse_args()

    rubric = bench_rubric(args.number)
    push = None if args.skip_servers else bench_push(args.servers, args.pushes)

    print(f"{'measure':<36} {'median':>10} {'best':>10}  target")
    for name, r in rubric.items():
        target = "< 20 us" if name == "score_3_const" else ""
        print(f"{'rubric ' + name:<36} {r['median_us']:>8.2f}us {r['min_us']:>8.2f}us  {target}")
    if push is not None:
        print(f"{'':<36} {'p50':>10} {'p95':>10}")
        for key, label in (
            ("provider_push_config", "provider.push_config"),
            ("kept_control_apis_threads", "kept ControlAPIs"),
            ("kept_alive_async", "kept-alive async"),
        ):
            r = push[key]
            name = f"POST /config x{push['servers']} {label}"
            print(f"{name:<36} {r['p50_ms']:>8.2f}ms {r['p95_ms']:>8.2f}ms  < 50 ms")
        print(f"{'  (provider first push, cold)':<36} {push['provider_first_push_ms']:>8.2f}ms")
        print(f"{'  (pool start-up)':<36} {push['startup_s']:>9.2f}s")
    result = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_avg_1m_at_end": os.getloadavg()[0],  # other work on the machine skews these numbers
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
        "rubric_us": rubric,
        "push_config": push,
        "targets": {"score_3_const_us": 20, "push_config_8_ms": 50},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"load average (1 min) {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus; wrote {args.out}")


if __name__ == "__main__":
    main()

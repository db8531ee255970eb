"""Scale benchmark: thousands of concurrent WS sessions through our own client against 4 echo replicas.

    python bench/scale_bench.py                                  # 1024, 2048, 4096 sessions, local processes
    python bench/scale_bench.py --runtime ray                    # the same through runtime=ray (Ray actors)
    python bench/scale_bench.py --levels 4096 --duration 20      # one level, longer
    python bench/scale_bench.py --http-levels 1024 2048 4096     # also httpx at N requests in flight
    python bench/scale_bench.py --protocol ours                  # clients skip their GET /metadata probe

For each level it starts 4 fresh echo replicas (local processes: ``LocalProcessProvider``; or Ray actors:
``RayProvider``), opens N sessions at once with the harness's own ``AsyncEnvClient`` (handed out by the
provider, on the rollout loop the harness uses, with its default timeouts), steps every session in a closed
loop for ``--duration`` seconds, then closes them. Measured: session success (reset and every step fine),
open time, steps/s, p50/p99 step latency, client CPU per session opened and per step (this process), server CPU
per step (the replicas' processes), RSS per session on both sides, and the client's file descriptors. Whether
the client side stays linear is read across levels: its CPU per open and per step should not grow with N.
Results: a table and ``bench/results/scale[_ray].json``. OpenEnv's published figure: 256 sessions per core at
96.5% success.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _httpx_scale import run_http_levels  # noqa: E402
from _servers import MAX_STEPS, cpu_seconds, threads_and_rss  # noqa: E402

from openenv_harness.rollout._runtime import new_event_loop  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
REPLICAS = 4


def raise_fd_limit(need: int) -> int:
    """Raise this process's soft ``RLIMIT_NOFILE`` to the hard limit; fail early if ``need`` will not fit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < need:
        raise SystemExit(f"RLIMIT_NOFILE hard limit {hard} < {need} descriptors this run needs (ulimit -Hn)")
    return hard


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_mb(pid: int) -> float:
    return threads_and_rss(pid)[1]


def make_provider(runtime: str, n: int) -> Any:
    per_replica = -(-n // REPLICAS) + 64  # round-robin puts n/4 on each; a little room for reconnects
    kwargs = {"env_kwargs": {"max_steps": MAX_STEPS}, "max_sessions": per_replica, "idle_timeout_s": 3600.0}
    if runtime == "local":
        from openenv_harness.runtime import LocalProcessProvider

        return LocalProcessProvider("echo", n_servers=REPLICAS, **kwargs)
    from openenv_harness.runtime._ray import RayProvider

    # 4 replicas on a 2-core machine: reserve a quarter CPU each so all of them fit on the one node.
    return RayProvider("echo", replicas=REPLICAS, num_cpus=0.25, **kwargs)


def server_pids(provider: Any) -> list[int]:
    """The replicas' process ids (local processes, or the Ray actors' worker processes)."""
    if hasattr(provider, "pids"):
        return list(provider.pids)
    return [int(r.pid) for r in provider._seats.replicas if getattr(r, "pid", None)]


async def measure_level(
    provider: Any, n: int, duration: float, pids: list[int], client_kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Open ``n`` sessions at once, step them all for ``duration`` s, close them; return the row."""
    me = os.getpid()
    rss0, fds0 = _rss_mb(me), _fds()
    srv_rss0 = sum(_rss_mb(p) for p in pids)
    clients = [provider.async_client(request_timeout_s=120.0, **client_kwargs) for _ in range(n)]
    errors: list[str] = []
    failed: set[int] = set()

    def fail(i: int, what: str) -> None:
        failed.add(i)
        if len(errors) < 5:
            errors.append(what[:240])

    async def open_one(i: int) -> None:
        try:
            await clients[i].reset(seed=i)
        except Exception as exc:
            fail(i, f"open: {exc!r}")

    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(open_one(i) for i in range(n)))
    open_s, open_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    opened = [i for i in range(n) if i not in failed]
    rss1, fds1 = _rss_mb(me), _fds()
    srv_rss1 = sum(_rss_mb(p) for p in pids)

    lat: list[float] = []
    steps = 0
    stop = False

    async def loop(i: int) -> None:
        nonlocal steps
        client, clock, action = clients[i], time.perf_counter, {"message": "hello"}
        try:
            while not stop:
                t = clock()
                obs = await client.step(action)
                lat.append(clock() - t)
                steps += 1
                if obs.message != "hello":
                    fail(i, f"step: wrong echo {obs.message!r}")
                    return
        except Exception as exc:
            fail(i, f"step: {exc!r}")

    async def timer() -> None:
        nonlocal stop
        await asyncio.sleep(duration)
        stop = True

    srv_cpu0 = sum(cpu_seconds(p) for p in pids)
    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(timer(), *(loop(i) for i in opened))
    wall = time.perf_counter() - t0
    step_cpu = time.process_time() - cpu0
    srv_cpu = sum(cpu_seconds(p) for p in pids) - srv_cpu0
    t0 = time.perf_counter()
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    close_s = time.perf_counter() - t0
    return {
        "sessions": n,
        "success": (n - len(failed)) / n,
        "failed_sessions": len(failed),
        "open_s": open_s,
        "client_cpu_ms_per_open": open_cpu / n * 1e3,
        "steps": steps,
        "steps_per_s": steps / wall if wall else 0.0,
        "p50_ms": _pct(lat, 0.50) * 1e3,
        "p99_ms": _pct(lat, 0.99) * 1e3,
        "client_cpu_us_per_step": step_cpu / steps * 1e6 if steps else float("nan"),
        "server_cpu_us_per_step": srv_cpu / steps * 1e6 if steps else float("nan"),
        "client_cpu_util": step_cpu / wall if wall else 0.0,
        "server_cpu_util": srv_cpu / wall if wall else 0.0,
        "client_kib_per_session": (rss1 - rss0) * 1024 / n,
        "server_kib_per_session": (srv_rss1 - srv_rss0) * 1024 / n,
        "server_rss_idle_mb": srv_rss0,
        "client_fds_per_session": (fds1 - fds0) / n,
        "close_s": close_s,
        "errors": errors,
    }


def run_level(runtime: str, n: int, duration: float, protocol: str) -> dict[str, Any]:
    from openenv_harness.client import OURS

    # "detect" is what the harness does: each client reads GET /metadata before its first WS connect.
    client_kwargs = {"protocol": OURS} if protocol == "ours" else {}
    provider = make_provider(runtime, n)
    t0 = time.perf_counter()
    urls = provider.start()
    start_s = time.perf_counter() - t0
    loop = new_event_loop()
    try:
        time.sleep(0.5)  # let the replicas settle before the idle RSS reading
        row = loop.run_until_complete(
            measure_level(provider, n, duration, server_pids(provider), client_kwargs)
        )
    finally:
        loop.close()
        provider.stop()
    row["replicas_start_s"] = start_s
    row["urls"] = urls
    return row


COLUMNS = (
    ("sessions", "sess", "{:6d}"),
    ("success", "ok %", "{:7.2%}"),
    ("open_s", "open s", "{:7.1f}"),
    ("client_cpu_ms_per_open", "cli ms/open", "{:11.2f}"),
    ("steps_per_s", "steps/s", "{:8.0f}"),
    ("p50_ms", "p50 ms", "{:8.1f}"),
    ("p99_ms", "p99 ms", "{:8.1f}"),
    ("client_cpu_us_per_step", "cli us/st", "{:9.0f}"),
    ("server_cpu_us_per_step", "srv us/st", "{:9.0f}"),
    ("client_kib_per_session", "cli KiB/s", "{:9.1f}"),
    ("server_kib_per_session", "srv KiB/s", "{:9.1f}"),
    ("client_fds_per_session", "fds/s", "{:6.2f}"),
)


def print_header() -> None:
    print(
        " ".join(
            f"{title:>{len(fmt.format(0) if 'd' in fmt else fmt.format(0.0))}}" for _, title, fmt in COLUMNS
        )
    )


def print_row(row: dict[str, Any]) -> None:
    print(" ".join(fmt.format(row[key]) for key, _, fmt in COLUMNS), flush=True)
    for err in row.get("errors") or []:
        print(f"    {err}")


def linearity(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Client cost per open and per step at the largest level relative to the smallest (1.0 = linear)."""
    if len(rows) < 2:
        return []
    small, big = rows[0], rows[-1]
    out = []
    for key in ("client_cpu_ms_per_open", "client_cpu_us_per_step", "client_kib_per_session"):
        ratio = big[key] / small[key] if small[key] else float("nan")
        out.append(
            {
                "metric": key,
                "from": small["sessions"],
                "to": big["sessions"],
                "ratio": ratio,
                "linear": bool(ratio < 1.5),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runtime", choices=["local", "ray"], default="local")
    parser.add_argument("--levels", type=int, nargs="*", default=[1024, 2048, 4096])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of stepping per level")
    parser.add_argument("--protocol", choices=["detect", "ours"], default="detect", help="client protocol")
    parser.add_argument("--http-levels", type=int, nargs="*", default=[], help="httpx requests in flight")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    limit = raise_fd_limit(3 * max([*args.levels, *args.http_levels, 0]) + 256)  # WS, control HTTP, slack
    t_start = time.perf_counter()
    print(
        f"# {args.runtime}: {REPLICAS} echo replicas, {args.duration:.0f} s of stepping per level, "
        f"client protocol {args.protocol}, fds {limit}"
    )
    rows = []
    if args.levels:
        print_header()
    for n in args.levels:
        row = run_level(args.runtime, n, args.duration, args.protocol)
        rows.append(row)
        print_row(row)
    lin = linearity(rows)
    for item in lin:
        print(
            f"{'linear' if item['linear'] else 'NOT LINEAR':10s} {item['metric']:24s} x{item['ratio']:.2f} "
            f"from {item['from']} to {item['to']} sessions"
        )
    http_rows = run_http_levels(args.http_levels) if args.http_levels else []
    suffix = ("" if args.runtime == "local" else f"_{args.runtime}") + (
        "" if args.protocol == "detect" else "_ours"
    )
    out = args.out or RESULTS / f"scale{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg": os.getloadavg(),
        },
        "runtime": args.runtime,
        "protocol": args.protocol,
        "replicas": REPLICAS,
        "duration_s": args.duration,
        "rows": rows,
        "linearity": lin,
        "httpx": http_rows,
        "wall_s": time.perf_counter() - t_start,
    }
    out.write_text(json.dumps(record, indent=2))
    print(f"\nwrote {out} ({record['wall_s']:.0f} s)")


if __name__ == "__main__":
    main()

"""Soak: does a served env stay flat (RSS, file descriptors) and up under mixed load with malformed traffic?

    python bench/soak_bench.py [--duration 600] [--sample-s 5] [--out bench/results/soak.json]

Starts ``python -m openenv_harness.server --env echo`` (short idle/header/body timeouts so the limits are
exercised within the run) and runs, concurrently, for ``--duration`` seconds:

* well-behaved WS clients (reset, steps, close) and HTTP clients (reset, step, state, close), whose every
  unexpected answer is counted as a failure;
* hostile WS clients: invalid JSON, binary garbage, unknown types, extra keys, fields nested 300 deep, frames
  over ``max_frame_bytes``, ids beyond 64 bits, abrupt disconnects mid-episode;
* hostile HTTP clients: chunked bodies past the limit, declared huge ``Content-Length``, bad JSON, deep
  nesting, bodies that stall (408), connections that never send a request head or only half of one;
* squatters: WS sessions that only poll ``state`` (the reaper must close them).

Every ``--sample-s`` seconds it records the server's RSS, open fds, threads and sessions; a server that exits is
a crash (counted, restarted). After the load stops it waits for the timeouts to pass and samples once more:
connections and sessions must drain back. Prints one table and writes the time series as JSON.

Targets: 0 crashes, 0 failures of well-behaved clients, RSS flat (last minute's median within 20 MiB of the
first minute's), fds back to within 10 of the start once the load stops.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

MAX_FRAME = 64 * 1024
SERVER_ARGS = [
    "--env", "echo", "--env-kwargs", '{"max_steps": 20}', "--max-sessions", "256", "--idle-timeout-s", "5",
    "--header-timeout-s", "2", "--body-timeout-s", "2", "--max-frame-bytes", str(MAX_FRAME),
]  # fmt: skip


class Soak:
    """Shared counters and the server process."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.failure_examples: list[str] = []
        self.crashes = 0
        self.proc: subprocess.Popen[str] | None = None
        self.base = ""
        self.stop = False

    def start_server(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "openenv_harness.server", *SERVER_ARGS],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line.startswith("LISTENING "):
            raise SystemExit(f"server did not start: {line!r}")
        self.base = line.split()[1]

    def fail(self, kind: str, what: str) -> None:
        self.failures[kind] += 1
        if len(self.failure_examples) < 20:
            self.failure_examples.append(f"{kind}: {what[:200]}")

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/ws"

    @property
    def addr(self) -> tuple[str, int]:
        host, port = self.base.removeprefix("http://").rsplit(":", 1)
        return host, int(port)


def _proc_sample(pid: int) -> dict[str, Any]:
    out: dict[str, Any] = {"fds": len(os.listdir(f"/proc/{pid}/fd"))}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
            elif key == "Threads":
                out["threads"] = int(value)
    return out


# --- well-behaved clients -------------------------------------------------------------------------------------


async def good_ws(soak: Soak, rng: random.Random) -> None:
    while not soak.stop:
        try:
            async with connect(soak.ws_url, max_size=None, open_timeout=10) as ws:
                await ws.send(json.dumps({"type": "reset", "data": {"seed": rng.randrange(1000)}, "id": 0}))
                first = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if first.get("type") == "error" and first["data"]["code"] == "CAPACITY":
                    soak.counts["ws.capacity"] += 1
                    await asyncio.sleep(0.5)
                    continue
                if first.get("type") != "observation" or first.get("id") != 0:
                    soak.fail("good_ws", f"reset answered {first}")
                    continue
                for i in range(1, rng.randint(2, 19)):
                    await ws.send(json.dumps({"type": "step", "data": {"message": "m" * i}, "id": i}))
                    out = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if (
                        out.get("type") != "observation"
                        or out.get("id") != i
                        or out["data"]["reward"] is None
                    ):
                        soak.fail("good_ws", f"step answered {out}")
                        break
                    soak.counts["ws.step"] += 1
                await ws.send(json.dumps({"type": "close"}))
                soak.counts["ws.episode"] += 1
        except (OSError, ConnectionClosed, TimeoutError, InvalidStatus) as exc:
            soak.fail("good_ws", repr(exc))
            await asyncio.sleep(0.2)


async def good_http(soak: Soak, rng: random.Random) -> None:
    async with httpx.AsyncClient(base_url=soak.base, timeout=10) as client:
        while not soak.stop:
            try:
                r = await client.post("/reset", json={"seed": rng.randrange(1000)})
                if r.status_code == 503:
                    soak.counts["http.capacity"] += 1
                    await asyncio.sleep(0.5)
                    continue
                if r.status_code != 200:
                    soak.fail("good_http", f"reset {r.status_code} {r.text}")
                    continue
                sid = r.json()["session_id"]
                headers = {"X-Session-Id": sid}
                for i in range(rng.randint(1, 10)):
                    r = await client.post("/step", json={"action": {"message": "h" * i}}, headers=headers)
                    if r.status_code != 200:
                        soak.fail("good_http", f"step {r.status_code} {r.text}")
                        break
                    soak.counts["http.step"] += 1
                if (await client.get("/state", headers=headers)).status_code != 200:
                    soak.fail("good_http", "state")
                await client.post("/close", headers=headers)
                soak.counts["http.episode"] += 1
            except httpx.HTTPError as exc:
                soak.fail("good_http", repr(exc))
                await asyncio.sleep(0.2)


# --- hostile clients ------------------------------------------------------------------------------------------


def _nested(depth: int) -> Any:
    value: Any = 0
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def _bad_frames(rng: random.Random) -> list[str | bytes]:
    return [
        "{not json",
        bytes(rng.randrange(256) for _ in range(32)),
        json.dumps({"type": "launch"}),
        json.dumps({"type": "step", "data": {"message": "x"}, "evil": 1}),
        json.dumps({"type": "state", "id": _nested(300)}),
        json.dumps({"type": "step", "data": {"message": _nested(300)}}),
        json.dumps({"type": "step", "data": {"message": "x" * (MAX_FRAME + 10)}}),
        '{"type": "reset", "id": -9223372036854775809}',
        json.dumps([1, 2, 3]),
        json.dumps({"type": "step", "data": {"message": 5}}),
        json.dumps({"type": "reset", "data": {"seed": "abc"}}),
    ]


async def hostile_ws(soak: Soak, rng: random.Random) -> None:
    while not soak.stop:
        try:
            async with connect(soak.ws_url, max_size=None, open_timeout=10) as ws:
                for _ in range(rng.randint(1, 30)):
                    await ws.send(rng.choice(_bad_frames(rng)))
                    out = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if out.get("type") not in ("error", "observation", "state"):
                        soak.fail("hostile_ws", f"answered {out}")
                    soak.counts["ws.malformed"] += 1
                if rng.random() < 0.5:  # vanish mid-episode without a close frame
                    ws.transport.abort()  # type: ignore[attr-defined]
                    soak.counts["ws.aborted"] += 1
        except ConnectionClosed as exc:
            if exc.rcvd is None or exc.rcvd.code not in (1000, 1001, 1013):
                soak.fail("hostile_ws", f"connection closed: {exc!r}")
        except (OSError, TimeoutError, InvalidStatus) as exc:
            soak.fail("hostile_ws", repr(exc))
        await asyncio.sleep(0.01)


async def _raw(soak: Soak, payload: list[bytes], hold_s: float = 0.0) -> bytes:
    """Send ``payload`` pieces on a fresh TCP connection; return what the server answered until it closed."""
    reader, writer = await asyncio.open_connection(*soak.addr)
    try:
        for piece in payload:
            writer.write(piece)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            if reader.at_eof():
                break
        if hold_s:
            await asyncio.sleep(hold_s)
        return await asyncio.wait_for(reader.read(1 << 16), 10)
    except (ConnectionError, TimeoutError):
        return b""
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def hostile_http(soak: Soak, rng: random.Random) -> None:
    chunk = b"a" * 65536
    deep = b'{"a": ' + b"[" * 300 + b"]" * 300 + b"}"  # an object (a bare array is INVALID_JSON, 400)
    chunked = [b"POST /step HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: chunked\r\n\r\n"] + [
        f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    ] * 40
    cases: dict[str, tuple[list[bytes], str]] = {
        "chunked_2.5MiB": (chunked, "413"),
        "huge_length": ([b"POST /reset HTTP/1.1\r\nHost: s\r\nContent-Length: 9999999999\r\n\r\n"], "413"),
        "bad_json": ([b"POST /reset HTTP/1.1\r\nHost: s\r\nContent-Length: 5\r\n\r\n{nope"], "400"),
        "deep": ([b"POST /config HTTP/1.1\r\nHost: s\r\nContent-Length: 607\r\n\r\n" + deep], "422"),
        "stalled_body": ([b"POST /step HTTP/1.1\r\nHost: s\r\nContent-Length: 100\r\n\r\n{"], "408"),
    }
    async with httpx.AsyncClient(base_url=soak.base, timeout=10) as client:
        while not soak.stop:
            name = rng.choice([*cases, "half_open", "slow_head", "config_weight"])
            try:
                if name == "half_open":
                    got = await _raw(soak, [], hold_s=rng.uniform(0, 3))
                    soak.counts["http.half_open"] += 1
                elif name == "slow_head":
                    got = await _raw(soak, [b"GET /health HTTP/1.1\r\nHo"], hold_s=rng.uniform(0, 3))
                    soak.counts["http.slow_head"] += 1
                elif name == "config_weight":
                    r = await client.post("/config", json={"weights": {"length": 1.79e308}})
                    if r.status_code != 422:
                        soak.fail("hostile_http", f"config weight answered {r.status_code}")
                    soak.counts["http.config_weight"] += 1
                else:
                    payload, status = cases[name]
                    got = await _raw(soak, payload)
                    if got and not got.startswith(f"HTTP/1.1 {status}".encode()):
                        soak.fail("hostile_http", f"{name}: {got[:80]!r}")
                    elif got.startswith(b"HTTP/1.1 5"):
                        soak.fail("hostile_http", f"{name}: 5xx")
                    soak.counts[f"http.{name}"] += 1
            except (OSError, httpx.HTTPError) as exc:
                soak.fail("hostile_http", f"{name}: {exc!r}")
            await asyncio.sleep(0.02)


async def squatter(soak: Soak, rng: random.Random) -> None:
    while not soak.stop:
        try:
            async with connect(soak.ws_url, open_timeout=10) as ws:
                await ws.send(json.dumps({"type": "reset"}))
                await ws.recv()
                while not soak.stop:
                    await asyncio.sleep(1)
                    await ws.send(json.dumps({"type": "state"}))
                    await asyncio.wait_for(ws.recv(), 10)
        except ConnectionClosed as exc:
            if exc.rcvd is not None and exc.rcvd.code == 1001:
                soak.counts["ws.squatter_reaped"] += 1
            else:
                soak.fail("squatter", repr(exc))
        except (OSError, TimeoutError, InvalidStatus) as exc:
            soak.fail("squatter", repr(exc))


# --- the run --------------------------------------------------------------------------------------------------


async def sampler(soak: Soak, every_s: float, t0: float, samples: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(base_url=soak.base, timeout=10) as client:
        while not soak.stop:
            await asyncio.sleep(every_s)
            assert soak.proc is not None
            if soak.proc.poll() is not None:
                soak.crashes += 1
                print(f"server exited with {soak.proc.returncode}: restarting", file=sys.stderr)
                soak.start_server()
                continue
            row: dict[str, Any] = {"t": round(time.monotonic() - t0, 1), **_proc_sample(soak.proc.pid)}
            try:
                h = await client.get(soak.base + "/health")
                row["sessions"] = h.json()["sessions"]
            except httpx.HTTPError:
                row["sessions"] = None
            samples.append(row)


async def run(duration_s: float, sample_s: float, seed: int) -> dict[str, Any]:
    soak = Soak()
    soak.start_server()
    assert soak.proc is not None
    await asyncio.sleep(0.5)
    start = {"t": 0.0, **_proc_sample(soak.proc.pid)}
    samples: list[dict[str, Any]] = [start]
    t0 = time.monotonic()
    workers = [good_ws] * 8 + [good_http] * 4 + [hostile_ws] * 3 + [hostile_http] * 3 + [squatter] * 4
    tasks = [asyncio.create_task(w(soak, random.Random(seed + i))) for i, w in enumerate(workers)]
    tasks.append(asyncio.create_task(sampler(soak, sample_s, t0, samples)))
    await asyncio.sleep(duration_s)
    soak.stop = True
    await asyncio.wait(tasks, timeout=30)
    for t in tasks:
        t.cancel()
    await asyncio.sleep(8)  # past the idle (5 s), header and body (2 s) timeouts: everything must drain
    drained = {"t": round(time.monotonic() - t0, 1), **_proc_sample(soak.proc.pid)}
    drained["sessions"] = httpx.get(soak.base + "/health", timeout=10).json()["sessions"]
    soak.proc.terminate()
    soak.proc.wait(timeout=30)
    return {
        "duration_s": duration_s,
        "counts": dict(soak.counts),
        "failures": dict(soak.failures),
        "failure_examples": soak.failure_examples,
        "crashes": soak.crashes,
        "start": start,
        "drained": drained,
        "samples": samples,
    }


def summarize(result: dict[str, Any]) -> dict[str, Any]:
    samples = [s for s in result["samples"] if "VmRSS" in s]
    minute = max(1, int(60 / max(1e-9, (samples[-1]["t"] / max(1, len(samples) - 1)))))
    first = statistics.median(s["VmRSS"] for s in samples[:minute])
    last = statistics.median(s["VmRSS"] for s in samples[-minute:])
    return {
        "rss_start_mib": round(result["start"]["VmRSS"], 1),
        "rss_first_min_median_mib": round(first, 1),
        "rss_last_min_median_mib": round(last, 1),
        "rss_max_mib": round(max(s["VmRSS"] for s in samples), 1),
        "rss_peak_hwm_mib": round(result["drained"]["VmHWM"], 1),
        "rss_drained_mib": round(result["drained"]["VmRSS"], 1),
        "fds_start": result["start"]["fds"],
        "fds_max": max(s["fds"] for s in samples),
        "fds_drained": result["drained"]["fds"],
        "threads_max": max(s["threads"] for s in samples),
        "sessions_drained": result["drained"]["sessions"],
        "crashes": result["crashes"],
        "good_client_failures": sum(v for k, v in result["failures"].items() if k.startswith("good")),
        "hostile_unexpected": sum(v for k, v in result["failures"].items() if not k.startswith("good")),
        "rss_flat": abs(last - first) < 20,
        "fds_flat": result["drained"]["fds"] <= result["start"]["fds"] + 10,
    }


def main() -> None:
    # our own hostile writers hit closed sockets on purpose; asyncio would log each of those
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=600.0, help="seconds of load (default 10 minutes)")
    p.add_argument("--sample-s", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="bench/results/soak.json")
    args = p.parse_args()
    result = asyncio.run(run(args.duration, args.sample_s, args.seed))
    result["summary"] = summary = summarize(result)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"soak: {args.duration:.0f} s of mixed load against python -m openenv_harness.server --env echo")
    print(f"{'metric':<28} value")
    for key, value in summary.items():
        print(f"{key:<28} {value}")
    for key, value in sorted(result["counts"].items()):
        print(f"{'count ' + key:<28} {value}")
    for example in result["failure_examples"]:
        print(f"failure: {example}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

"""httpx at thousands of requests in flight: the harness's HTTP path to a model server (``OpenAIPolicy``).

NeMo Gym found httpx's connection pool quadratic in queued requests at 16k: httpcore re-scans every queued
request against every connection on each pool event. Our ``OpenAIPolicy.agenerate`` caps requests in flight
with a semaphore of ``concurrency``; this measures its client CPU per request for N chats at
``concurrency=N`` against a stub chat-completions endpoint (a bare Starlette app in its own process, so only
the client's cost is read), and the same N with ``concurrency=64``.

    python bench/_httpx_scale.py serve --port P      # the stub endpoint (started by run_http_levels)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

from _servers import _healthy, free_port

REPLY = json.dumps(
    {"choices": [{"index": 0, "message": {"role": "assistant", "content": "4"}, "finish_reason": "stop"}]}
)


def stub_app() -> Any:
    """``POST /v1/chat/completions`` answers one fixed completion; ``GET /health`` answers 200."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def chat(request: Request) -> Response:
        await request.body()
        return Response(REPLY, media_type="application/json")

    async def health(request: Request) -> Response:
        return Response("{}", media_type="application/json")

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"]), Route("/health", health)])


async def _one_level(base_url: str, n: int, concurrency: int) -> dict[str, Any]:
    from openenv_harness.rollout._policies import OpenAIPolicy

    policy = OpenAIPolicy(base_url, "stub", concurrency=concurrency, timeout_s=300.0)
    chats = [[{"role": "user", "content": f"{i} + 0 = ?"}] for i in range(n)]
    cpu0, t0 = time.process_time(), time.perf_counter()
    try:
        answers = await policy.agenerate(chats)
        ok = sum(a == "4" for a in answers)
        error = ""
    except Exception as exc:
        ok, error = 0, repr(exc)[:240]
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "requests": n,
        "concurrency": concurrency,
        "ok": ok,
        "wall_s": wall,
        "requests_per_s": n / wall,
        "client_cpu_us_per_request": cpu / n * 1e6,
        "error": error,
    }


def run_http_levels(levels: list[int]) -> list[dict[str, Any]]:
    """Start the stub, run ``OpenAIPolicy.agenerate`` at each level (concurrency N and 64), print and return."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + 30
        while not _healthy(port):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the stub chat endpoint did not come up")
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}/v1"
        print(
            f"\n# OpenAIPolicy.agenerate over httpx {__import__('httpx').__version__} against a stub endpoint"
        )
        print(
            f"{'requests':>8s} {'in flight':>9s} {'ok':>6s} {'wall s':>7s} {'req/s':>7s} {'cli us/req':>10s}"
        )
        for n in levels:
            for concurrency in (n, 64):
                row = asyncio.run(_one_level(base, n, concurrency))
                rows.append(row)
                print(
                    f"{row['requests']:8d} {row['concurrency']:9d} {row['ok']:6d} {row['wall_s']:7.2f} "
                    f"{row['requests_per_s']:7.0f} {row['client_cpu_us_per_request']:10.0f} {row['error']}",
                    flush=True,
                )
    finally:
        proc.terminate()
        proc.wait(10)
    return rows


def _serve(port: int) -> None:
    import uvicorn

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    uvicorn.run(stub_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False, backlog=4096)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve")
    serve.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    _serve(args.port)

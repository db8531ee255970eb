"""All 164 HumanEval reference solutions through the coding environment: every one must score the maximum.

    python bench/humaneval_bench.py [--workers 1 2] [--ws] [--limit N]

Each task is one episode: ``reset(task_id=...)`` then a submission of ``prompt + canonical_solution``
(in a fresh bubblewrap sandbox; the unit tests run one assert at a time). ``--workers`` lists the numbers of
concurrent episodes to time (threads, each with its own environment instance: the work happens in the
sandboxed subprocesses). ``--ws`` runs the episodes through a real server (``LocalProcessProvider``) over WS
instead of in-process. Prints one table and writes ``bench/results/humaneval.json`` (``humaneval_ws.json``
with ``--ws``).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from openenv_harness.envs.coding import CodingAction, CodingEnvironment
from openenv_harness.envs.coding.tasks import _humaneval_rows


def _episode_local(env: CodingEnvironment, row: dict[str, Any]) -> tuple[str, float, dict[str, float]]:
    env.reset(seed=0, task_id=row["task_id"])
    obs = env.step(CodingAction(code=row["prompt"] + row["canonical_solution"], submit=True))
    return row["task_id"], float(obs.reward or 0.0), dict(obs.metadata["reward_components"])


def run(workers: int, rows: list[dict[str, Any]], ws: bool) -> dict[str, Any]:
    provider = None
    if ws:
        from openenv_harness.runtime import LocalProcessProvider

        provider = LocalProcessProvider("coding")
        provider.start()
        provider.wait_healthy()

    def worker(chunk: list[dict[str, Any]]) -> list[tuple[str, float, dict[str, float]]]:
        out = []
        if provider is not None:
            with provider.client() as client:
                for row in chunk:
                    client.reset(seed=0, task_id=row["task_id"])
                    obs = client.step({"code": row["prompt"] + row["canonical_solution"], "submit": True})
                    out.append(
                        (row["task_id"], float(obs.reward or 0.0), dict(obs.metadata["reward_components"]))
                    )
            return out
        env = CodingEnvironment()
        try:
            return [_episode_local(env, row) for row in chunk]
        finally:
            env.close()

    chunks = [rows[i::workers] for i in range(workers)]
    t0 = time.perf_counter()
    try:
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            results = [r for part in pool.map(worker, chunks) for r in part]
    finally:
        if provider is not None:
            provider.stop()
    wall = time.perf_counter() - t0
    full = [tid for tid, _, comps in results if comps.get("tests") == 1.0 and comps.get("compiles") == 1.0]
    failed = sorted(tid for tid, _, comps in results if tid not in set(full))
    return {
        "workers": workers,
        "transport": "ws" if ws else "in-process",
        "tasks": len(results),
        "max_score": len(full),
        "failed": failed,
        "wall_s": wall,
        "per_task_ms": wall / max(1, len(results)) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--ws", action="store_true", help="through a real server over WS")
    parser.add_argument("--limit", type=int, default=None, help="only the first N tasks (smoke runs)")
    args = parser.parse_args()
    rows = list(_humaneval_rows())[: args.limit]
    table = [run(w, rows, args.ws) for w in args.workers]
    print(f"{'workers':>7} {'transport':>10} {'tasks':>5} {'score 1.0':>9} {'wall s':>8} {'ms/task':>8}")
    for r in table:
        print(
            f"{r['workers']:>7} {r['transport']:>10} {r['tasks']:>5} {r['max_score']:>9} {r['wall_s']:8.2f} "
            f"{r['per_task_ms']:8.1f}"
        )
        if r["failed"]:
            print(f"  not at maximum: {', '.join(r['failed'])}")
    ok = all(r["max_score"] == r["tasks"] for r in table)
    print(f"all reference solutions at the maximum: {'PASS' if ok else 'FAIL'}")
    out = {
        "bench": "humaneval",
        "pass": ok,
        "rows": table,
        "host": {"python": platform.python_version(), "cpus": os.cpu_count(), "loadavg": os.getloadavg()},
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    path = Path(__file__).parent / "results" / ("humaneval_ws.json" if args.ws else "humaneval.json")
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

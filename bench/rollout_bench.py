"""The rollout engine alone: multi-turn scripted episodes over WebSocket, many at once, on this machine.

    python bench/rollout_bench.py                         # ~1 min; table + bench/results/rollout.json
    python bench/rollout_bench.py --episodes 1024 --servers 2

A scripted policy (no model) plays the echo env (``max_steps`` turns per episode) through the real stack:
env servers started by the local-process provider on 127.0.0.1, the session pool, the episode engine. It
reports turns per second, and CPU per turn of the engine's process (client, engine, event loop) next to the
servers' (read from /proc): the engine must not be the bottleneck, so its CPU per turn bounds the turns per
second one core of engine can drive (target: >= 5,000 turns/s, i.e. <= 200 us of engine CPU per turn).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import cpu_seconds  # noqa: E402

from openenv_harness.config import compose_config  # noqa: E402
from openenv_harness.rollout import (  # noqa: E402
    EngineStats,
    EnvRuntime,
    ScriptedPolicy,
    Task,
    adapter_for,
    run_episodes,
)

RESULTS = Path(__file__).resolve().parent / "results" / "rollout.json"
TARGET_TURNS_PER_CORE_S = 5000.0


def _server_pids(rt: EnvRuntime) -> list[int]:
    return list(getattr(rt.provider, "pids", []))


def measure(episodes: int, sessions: int, servers: int, turns: int, rounds: int) -> dict[str, Any]:
    """Run ``rounds`` batches of ``episodes`` episodes; return throughput and CPU split."""
    cfg = compose_config(
        ["env=echo", "runtime=local", f"runtime.sessions={sessions}", f"runtime.num_servers={servers}"]
    )
    with EnvRuntime(cfg.runtime, "echo", {"max_steps": turns}, cfg.server) as rt:
        adapter = adapter_for("echo")
        policy = ScriptedPolicy(adapter)
        pids = _server_pids(rt)
        tasks = [Task(seed=i) for i in range(episodes)]
        rt.run(run_episodes(rt, policy, adapter, tasks[:sessions], max_turns=turns))  # warm-up: connect
        stats = EngineStats()
        srv0 = sum(cpu_seconds(p) for p in pids)
        cpu0, t0 = time.process_time(), time.perf_counter()
        for _ in range(rounds):
            eps = rt.run(run_episodes(rt, policy, adapter, tasks, max_turns=turns, stats=stats))
            assert all(e.error is None for e in eps), [e.error for e in eps if e.error][:3]
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        srv = sum(cpu_seconds(p) for p in pids) - srv0
    n = stats.turns
    engine_us = cpu / n * 1e6
    return {
        "episodes": episodes * rounds,
        "sessions": sessions,
        "servers": servers,
        "turns": n,
        "wall_s": round(wall, 3),
        "turns_per_s": round(n / wall, 1),
        "engine_cpu_us_per_turn": round(engine_us, 1),
        "server_cpu_us_per_turn": round(srv / n * 1e6, 1) if pids else None,
        "engine_bound_turns_per_core_s": round(1e6 / engine_us, 1),
        "server_pids_found": len(pids),
    }


def main() -> None:
    """Print one table and write JSON."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--episodes", type=int, default=64)
    ap.add_argument("--sessions", type=int, default=64)
    ap.add_argument("--servers", type=int, default=1)
    ap.add_argument("--turns", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    row = measure(args.episodes, args.sessions, args.servers, args.turns, args.rounds)
    ok = row["engine_bound_turns_per_core_s"] >= TARGET_TURNS_PER_CORE_S
    print(f"{'metric':<32} value")
    for k, v in row.items():
        print(f"{k:<32} {v}")
    print(f"{'target: engine >= 5000 turns/s':<32} {'met' if ok else 'MISSED'}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**row, "target_met": ok, "cpus": os.cpu_count()}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

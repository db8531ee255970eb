"""What the Ray path costs: the same episodes and the same eval through runtime=ray vs runtime=local.

    python bench/ray_overhead_bench.py                    # ~2 min on 2 cores; table + bench/results/ray_overhead.json
    python bench/ray_overhead_bench.py --episodes 64 --rounds 10 --servers 2 --no-cli

Two measurements per provider, both on this machine (Ray: a local instance on 127.0.0.1, started here):

* **steady state** — a scripted policy plays the echo env (``--turns`` steps per episode) over the harness's
  own session pool and episode engine, ``--rounds`` batches of ``--episodes`` episodes after a warm-up; wall
  time per episode, and CPU per episode of this process (engine + clients + the Ray driver's threads), of the
  env servers (the server processes, or the Ray actors' worker processes) and of Ray's own daemons (GCS,
  raylet, agents: every other process this one started), read from /proc.
* **the same eval end to end** — ``python -m openenv_harness mode=eval env=echo policy=scripted`` with
  ``--eval-tasks`` tasks, wall time of the whole command (start-up included: that is where Ray costs most).

The overhead rows are ray minus local. Loopback numbers move +-25% run to run on a shared machine; compare
within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import cpu_seconds  # noqa: E402

from openenv_harness.config import compose_config  # noqa: E402
from openenv_harness.rollout import EnvRuntime, ScriptedPolicy, Task, adapter_for, run_episodes  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "ray_overhead.json"
ROOT = Path(__file__).resolve().parents[1]


def _runtime_args(provider: str, servers: int, sessions: int) -> list[str]:
    count = f"runtime.replicas={servers}" if provider == "ray" else f"runtime.num_servers={servers}"
    extra = (
        [f"runtime.cpus_per_replica={min(1.0, (os.cpu_count() or 1) / servers)}"] if provider == "ray" else []
    )
    return [f"runtime={provider}", count, f"runtime.sessions={sessions}", *extra]


def _server_pids(rt: EnvRuntime) -> list[int]:
    placements = getattr(rt.provider, "placements", None)
    if placements is not None:
        return [int(p["pid"]) for p in placements()]
    return list(getattr(rt.provider, "pids", []))


def _descendants() -> list[int]:
    return [p.pid for p in psutil.Process().children(recursive=True)]


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:  # exited meanwhile
            continue
    return total


def steady(
    provider: str, episodes: int, sessions: int, servers: int, turns: int, rounds: int
) -> dict[str, Any]:
    """Start-up, then ``rounds`` batches of ``episodes`` episodes; wall and CPU per episode."""
    cfg = compose_config(["env=echo", *_runtime_args(provider, servers, sessions)])
    t0 = time.perf_counter()
    rt = EnvRuntime(cfg.runtime, "echo", {"max_steps": turns}, cfg.server)
    rt.__enter__()
    try:
        adapter = adapter_for("echo")
        policy = ScriptedPolicy(adapter)
        tasks = [Task(seed=i) for i in range(episodes)]
        rt.run(run_episodes(rt, policy, adapter, tasks[:sessions], max_turns=turns))  # warm-up: connect
        start_s = time.perf_counter() - t0
        servers_pids = _server_pids(rt)
        others = [p for p in _descendants() if p not in servers_pids]
        srv0, sys0 = _cpu(servers_pids), _cpu(others)
        cpu0, w0 = time.process_time(), time.perf_counter()
        for _ in range(rounds):
            eps = rt.run(run_episodes(rt, policy, adapter, tasks, max_turns=turns))
            assert all(e.error is None for e in eps), [e.error for e in eps if e.error][:3]
        wall, cpu = time.perf_counter() - w0, time.process_time() - cpu0
        srv, daemons = _cpu(servers_pids) - srv0, _cpu(others) - sys0
    finally:
        t1 = time.perf_counter()
        rt.close()
        stop_s = time.perf_counter() - t1
    n = episodes * rounds
    return {
        "provider": provider,
        "servers": servers,
        "sessions": sessions,
        "episodes": n,
        "turns_per_episode": turns,
        "start_s": round(start_s, 2),
        "stop_s": round(stop_s, 2),
        "ms_per_episode": round(wall / n * 1e3, 3),
        "episodes_per_s": round(n / wall, 1),
        "driver_cpu_ms_per_episode": round(cpu / n * 1e3, 3),
        "server_cpu_ms_per_episode": round(srv / n * 1e3, 3),
        "daemon_cpu_ms_per_episode": round(daemons / n * 1e3, 3),
        "server_processes": len(servers_pids),
        "daemon_processes": len(others),
    }


def cli_eval(provider: str, tasks: int, servers: int, sessions: int) -> dict[str, Any]:
    """Wall time of one ``mode=eval`` command (start-up, episodes, bundle, shutdown)."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "openenv_harness",
            "mode=eval",
            "env=echo",
            "env.kwargs.max_steps=3",
            "env.max_turns=3",
            "policy=scripted",
            f"eval.num_tasks={tasks}",
            *_runtime_args(provider, servers, sessions),
            f"eval.out={tmp}/bundle",
            f"hydra.run.dir={tmp}/run",
        ]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"eval with runtime={provider} failed:\n{proc.stderr[-2000:]}")
        results = json.loads((Path(tmp) / "bundle" / "results.json").read_text())
    return {
        "provider": provider,
        "tasks": tasks,
        "wall_s": round(wall, 2),
        "ms_per_episode": round(wall / tasks * 1e3, 1),
        "error_rate": results["evals"]["echo"]["error_rate"],
    }


def _table(rows: list[dict[str, Any]], keys: list[str]) -> None:
    print(f"{'':<28}" + "".join(f"{r['provider']:>12}" for r in rows) + f"{'ray - local':>14}")
    for key in keys:
        vals = [r[key] for r in rows]
        diff = vals[1] - vals[0] if all(isinstance(v, int | float) for v in vals) else ""
        print(f"{key:<28}" + "".join(f"{v:>12}" for v in vals) + f"{diff:>14.3f}")


def main() -> None:
    """Print the tables and write JSON."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--episodes", type=int, default=32)
    ap.add_argument("--sessions", type=int, default=32)
    ap.add_argument("--servers", type=int, default=2)
    ap.add_argument("--turns", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--eval-tasks", type=int, default=64)
    ap.add_argument("--no-cli", action="store_true", help="skip the end-to-end eval commands")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    providers = ("local", "ray")
    rows = [steady(p, args.episodes, args.sessions, args.servers, args.turns, args.rounds) for p in providers]
    print(
        f"steady state: {rows[0]['episodes']} echo episodes x {args.turns} turns, {args.sessions} sessions, "
        f"{args.servers} servers"
    )
    _table(rows, [k for k in rows[0] if k.endswith(("_s", "_ms_per_episode")) or k == "ms_per_episode"])
    evals = (
        [] if args.no_cli else [cli_eval(p, args.eval_tasks, args.servers, args.sessions) for p in providers]
    )
    if evals:
        print(f"\nthe same eval end to end (python -m openenv_harness mode=eval, {args.eval_tasks} tasks)")
        _table(evals, ["wall_s", "ms_per_episode"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"steady": rows, "eval": evals, "cpus": os.cpu_count(), "args": vars(args)}, indent=2, default=str
        )
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""Does an interrupted run always shut down? SIGINT/SIGTERM at random moments of a running job.

    python bench/interrupt_bench.py [--n 40] [--load 3]

Each round starts ``python -m openenv_harness env=echo policy=scripted learner=collect`` with two local env
servers, waits until episodes are being written, sleeps a random 0-0.3 s, sends SIGINT or SIGTERM and
measures the time until the process has exited. ``--load K`` runs K busy loops meanwhile (interrupt races
show up under load). A round that takes over 45 s is a hang: its Python stacks are dumped with ``py-spy``
when installed. Target: no hang, every run ends with the record's status ``interrupted`` and its servers
gone. Prints one table and writes ``bench/results/interrupt.json``.

Before TensorBoard was written without a writer thread (``harness/tb_events.py``), 2 rounds in 53 with
three busy loops hung, both waiting forever in ``SummaryWriter.close()`` for its writer thread.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HANG_S = 45.0


def _round(i: int, work: Path, rng: random.Random) -> dict[str, Any]:
    run = work / f"run{i}"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "openenv_harness", "env=echo", "policy=scripted", "learner=collect",
            "learner.max_steps=1000000", "runtime.num_servers=2", "logger=quiet", f"hydra.run.dir={run}",
        ],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    episodes = run / "episodes.jsonl"
    deadline = time.monotonic() + 120
    while not (episodes.exists() and episodes.stat().st_size > 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(rng.random() * 0.3)
    sig = rng.choice([signal.SIGINT, signal.SIGTERM])
    proc.send_signal(sig)
    t0 = time.monotonic()
    out: dict[str, Any] = {"round": i, "signal": sig.name}
    try:
        proc.wait(timeout=HANG_S)
        out["exit_s"], out["hang"] = round(time.monotonic() - t0, 3), False
    except subprocess.TimeoutExpired:
        out["hang"] = True
        if shutil.which("py-spy"):
            dump = subprocess.run(["py-spy", "dump", "--pid", str(proc.pid)], capture_output=True, text=True)
            out["stacks"] = dump.stdout[-4000:]
        proc.kill()
        proc.wait()
    record = json.loads((run / "run.json").read_text())
    out["status"] = record.get("status")
    out["servers_left"] = sum(1 for url in record.get("servers", []) if _alive(url))
    return out


def _alive(url: str) -> bool:
    try:
        httpx.get(f"{url}/health", timeout=1)
    except httpx.HTTPError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--load", type=int, default=3, help="busy loops running meanwhile")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    rounds = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(args.n):
                rounds.append(_round(i, Path(tmp), rng))
                print(json.dumps({k: v for k, v in rounds[-1].items() if k != "stacks"}), flush=True)
    finally:
        for p in busy:
            p.kill()
    times = [r["exit_s"] for r in rounds if not r["hang"]]
    summary = {
        "rounds": len(rounds),
        "load_busy_loops": args.load,
        "hangs": sum(r["hang"] for r in rounds),
        "not_interrupted_status": sum(r["status"] != "interrupted" for r in rounds),
        "servers_left": sum(r["servers_left"] for r in rounds),
        "exit_s_p50": statistics.median(times) if times else None,
        "exit_s_max": max(times) if times else None,
    }
    print()
    print(
        f"{'rounds':>7} {'load':>5} {'hangs':>6} {'bad status':>11} {'servers left':>13} {'exit p50 s':>11} {'max s':>7}"
    )
    print(
        f"{summary['rounds']:>7} {args.load:>5} {summary['hangs']:>6} {summary['not_interrupted_status']:>11} "
        f"{summary['servers_left']:>13} {summary['exit_s_p50']:>11.2f} {summary['exit_s_max']:>7.2f}"
    )
    out = Path(__file__).parent / "results" / "interrupt.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "rounds": rounds}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

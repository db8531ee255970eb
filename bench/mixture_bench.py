"""Training steps per second of a 2-env mixture (echo + arith) vs each env alone.

    python bench/mixture_bench.py                 # collect learner, scripted policy: ~1 min
    python bench/mixture_bench.py --grpo          # tiny GRPO on the embedded model as well: ~5 min

Each configuration is a real ``mode=train`` run in a subprocess (env servers on 127.0.0.1, the same groups
per step); steps/s is measured between the first and the last step's TensorBoard events, so server start,
model load and the first step's warm-up are left out. ``collect`` (no model) shows what mixing costs the
harness: a mixture's step runs each env's groups on that env's runtime one after the other. ``--grpo`` shows
it next to generation and the learner step. Prints a table, writes ``bench/results/mixture.json``.
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

RESULTS = Path(__file__).resolve().parent / "results" / "mixture.json"
CONFIGS = {
    "echo": ["env=echo", "schedule=none"],
    "arith": ["env=arith", "schedule=none"],
    "echo+arith (1:1)": [
        "env=echo",
        "schedule=none",
        "mixture=[{env: echo, weight: 1},{env: arith, weight: 1}]",
    ],
}


def _step_times(tb_dir: Path, tag: str) -> list[float]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    times: dict[int, float] = {}
    for events in sorted(tb_dir.rglob("events.out.tfevents.*")):
        acc = EventAccumulator(str(events), size_guidance={"scalars": 0})
        acc.Reload()
        for e in acc.Scalars(tag) if tag in acc.Tags().get("scalars", []) else []:
            times[e.step] = e.wall_time
    return [times[s] for s in sorted(times)]


def run(name: str, learner: list[str], steps: int) -> dict[str, Any]:
    """One run; steps/s between the first and the last logged step."""
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        cmd = [
            sys.executable,
            "-m",
            "openenv_harness",
            *CONFIGS[name],
            *learner,
            "logger=quiet",
            f"learner.max_steps={steps}",
            f"hydra.run.dir={run_dir}",
        ]
        t0 = time.monotonic()
        proc = subprocess.run(
            cmd, cwd=tmp, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}
        )
        wall = time.monotonic() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"{name}: {proc.stderr[-2000:]}")
        ts = _step_times(run_dir / "tb", "rollout/error_rate")
        return {
            "config": name,
            "steps": len(ts),
            "steps_per_s": (len(ts) - 1) / (ts[-1] - ts[0]) if len(ts) > 1 else None,
            "wall_s": round(wall, 1),
        }


def main() -> None:
    """Parse flags, run every configuration, print the table, write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=12, help="collect steps per run")
    ap.add_argument("--grpo", action="store_true", help="also tiny GRPO runs on the embedded model")
    ap.add_argument("--grpo-steps", type=int, default=4)
    args = ap.parse_args()
    learners = {
        "collect": (
            ["learner=collect", "policy=scripted", "learner.group_size=4", "learner.groups_per_step=4"],
            args.steps,
        )
    }
    if args.grpo:
        learners["grpo"] = (
            ["learner=grpo", "learner.group_size=2", "learner.groups_per_step=2", "policy.max_new_tokens=8"],
            args.grpo_steps,
        )
    rows = []
    for learner, (overrides, steps) in learners.items():
        for name in CONFIGS:
            row = {"learner": learner, **run(name, overrides, steps)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(f"\n{'learner':8} {'config':18} {'steps':>5} {'steps/s':>8} {'wall s':>7}")
    for r in rows:
        sps = "n/a" if r["steps_per_s"] is None else f"{r['steps_per_s']:.3f}"
        print(f"{r['learner']:8} {r['config']:18} {r['steps']:>5} {sps:>8} {r['wall_s']:>7}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine_cpus": os.cpu_count(), "rows": rows}, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

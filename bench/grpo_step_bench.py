"""Where a GRPO step on SmolLM2 spends its time: generation, environment (over the wire), learner.

    python bench/grpo_step_bench.py                       # ~3 min on 2 cores; table + bench/results/grpo_step.json
    python bench/grpo_step_bench.py --env coding --steps 3 --turns 2

Runs a short real training job (``python -m openenv_harness``, env servers as local processes on 127.0.0.1,
the embedded model with LoRA) and reads the per-step split the GRPO learner records in ``run.json``
(``metrics.time_split``): generation is the model producing every turn of every episode; env + harness is the
rest of the rollout (resets and steps over WebSocket, the engine, token bookkeeping); learner is TRL's
forward/backward/optimizer step. Target: env + harness under 5% of a step. The first step is reported but
left out of the means (it pays one-time costs: connections, lazy imports).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "grpo_step.json"


def main() -> None:
    """Run the job, print one table, write JSON."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--env", default="arith")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--turns", type=int, default=2)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    env_args = {
        "arith": [f"env.kwargs.attempts={args.turns}"],
        "coding": [f"env.kwargs.max_turns={args.turns}"],
        "wordle": [f"env.kwargs.max_turns={args.turns}"],
    }.get(args.env, [])
    with tempfile.TemporaryDirectory(prefix="grpo-bench-") as tmp:
        run_dir = Path(tmp) / "run"
        cmd = [
            sys.executable,
            "-m",
            "openenv_harness",
            f"env={args.env}",
            f"env.max_turns={args.turns}",
            *env_args,
            "schedule=none",
            "logger=quiet",
            f"learner.max_steps={args.steps}",
            "learner.group_size=4",
            "learner.groups_per_step=2",
            "learner.num_tasks=8",
            "policy.max_new_tokens=16",
            f"hydra.run.dir={run_dir}",
        ]
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        subprocess.run(cmd, check=True, cwd=tmp, env=env, capture_output=True, text=True)
        record = json.loads((run_dir / "run.json").read_text())
    split = record["metrics"]["time_split"]
    print(
        f"{'step':>4} {'step_s':>8} {'generation_s':>13} {'env_s':>7} {'env+harness_s':>14} {'learner_s':>10}"
    )
    for row in split:
        print(
            f"{row['step']:>4} {row['step_s']:>8.2f} {row['generation_s']:>13.2f} {row['env_s']:>7.3f} "
            f"{row['env_harness_s']:>14.3f} {row['learner_s']:>10.2f}"
        )
    steady = split[1:] or split
    share = statistics.fmean(r["env_harness_s"] / r["step_s"] for r in steady)
    means = {
        k: statistics.fmean(r[k] for r in steady)
        for k in ("step_s", "generation_s", "env_harness_s", "learner_s")
    }
    print(
        f"mean (steps 1..): step {means['step_s']:.2f} s = generation {means['generation_s']:.2f} + env+harness "
        f"{means['env_harness_s']:.3f} + learner {means['learner_s']:.2f}; env+harness share {share:.2%} "
        f"(target < 5%: {'met' if share < 0.05 else 'MISSED'})"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    out = {"env": args.env, "turns": args.turns, "split": split, "means": means, "env_harness_share": share}
    args.out.write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

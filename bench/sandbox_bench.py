"""Per-execution overhead of the bubblewrap sandbox.

    python bench/sandbox_bench.py [--n 200]

Measures, for ``print(1)``, the wall time of one execution (spawn to reap, output captured):

- ``bare python -I -S``: ``subprocess.run`` of the interpreter, no sandbox (the floor);
- ``Sandbox(mode=none)``: our runner with rlimits (``prlimit``) but no isolation;
- ``Sandbox(mode=bwrap)``: the real thing (prlimit + bwrap namespaces + setpriv to a leased uid);
- ``bwrap bash true``: the same sandbox running ``bash -c true``;
- ``episode open+close``: creating a sandbox (uid lease, work dir, cgroups) and deleting it;
- ``warm session print(1)``: one cell in the episode's persistent Python interpreter (``session: true``);
- ``warm session bash true``: one cell in the persistent bash shell;
- ``grade HumanEval/i``: grading the reference solution of a task (sandboxed callee + comparison in the
  grader), cycling through all 164 tasks (``--grade-n`` rounds).

Cases run round-robin (so load changes on a shared machine hit all of them alike). Targets: bwrap
``print(1)`` p50 < 25 ms (cold exec), warm session ``print(1)`` p50 < 5 ms. Prints one table and writes ``bench/results/sandbox.json``. Run it on a quiet
machine: on 2 shared cores under load every number doubles or triples.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openenv_harness.sandbox import Sandbox, SandboxConfig, bwrap_problem
from openenv_harness.sandbox._bwrap import python_executable

TARGET_P50_MS = 25.0
TARGET_SESSION_P50_MS = 5.0


def _stats(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    return {
        "n": len(ms),
        "p50_ms": statistics.median(ms),
        "p99_ms": ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))],
        "mean_ms": statistics.fmean(ms),
        "min_ms": ms[0],
    }


def _interleaved(cases: dict[str, Callable[[], Any]], n: int, warmup: int = 5) -> dict[str, dict[str, float]]:
    """Time every case ``n`` times, round-robin, so that load changes on a shared machine hit all alike."""
    for fn in cases.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(n):
        for name, fn in cases.items():
            t0 = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t0)
    return {name: _stats(s) for name, s in samples.items()}


def _grading(box: Sandbox, n: int) -> dict[str, float]:
    """Time grading the reference solution of ``n`` tasks (every one must pass all its units)."""
    from openenv_harness.envs.coding.tasks import CodingTasks
    from openenv_harness.verify import CallVerifier

    tasks = CodingTasks("tasksets/humaneval")
    samples = []
    for i in range(n):
        task = tasks.select(seed=0, split="test", index=i % 164, task_id=None)
        verifier = CallVerifier(task.units(), task.entry_point, prelude=task.prompt)
        t0 = time.perf_counter()
        report = verifier.verify(box, task.prompt + task.canonical_solution)
        samples.append(time.perf_counter() - t0)
        assert report.passed == report.total and report.defines_entry_point, (task.task_id, report)
    return _stats(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="executions per row")
    parser.add_argument("--grade-n", type=int, default=164, help="tasks graded (cycling through HumanEval)")
    args = parser.parse_args()
    problem = bwrap_problem()
    if problem is not None:
        raise SystemExit(f"bwrap sandbox unavailable: {problem}")
    py = python_executable()

    def bare() -> None:
        subprocess.run([py, "-I", "-S", "-c", "print(1)"], capture_output=True, check=True)

    def episode() -> None:
        Sandbox().close()

    with Sandbox(SandboxConfig(mode="none")) as none_box, Sandbox() as box, Sandbox() as sess:
        assert box.run("print(1)").stdout == "1\n"
        assert (
            sess.run_session("print(1)").stdout == "1\n" and sess.run_session("true", "bash").exit_code == 0
        )
        rows = _interleaved(
            {
                "bare python -I -S print(1)": bare,
                "Sandbox(none) print(1)": lambda: none_box.run("print(1)"),
                "Sandbox(bwrap) print(1)": lambda: box.run("print(1)"),
                "Sandbox(bwrap) bash true": lambda: box.run("true", "bash"),
                "episode open+close (no run)": episode,
                "warm session print(1)": lambda: sess.run_session("print(1)"),
                "warm session bash true": lambda: sess.run_session("true", "bash"),
            },
            args.n,
        )
        rows["grade HumanEval reference"] = _grading(box, args.grade_n)
    p50 = rows["Sandbox(bwrap) print(1)"]["p50_ms"]
    session_p50 = rows["warm session print(1)"]["p50_ms"]
    width = max(len(k) for k in rows)
    print(f"{'case':<{width}}  {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'min ms':>8} {'n':>5}")
    for name, r in rows.items():
        print(
            f"{name:<{width}}  {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['mean_ms']:8.2f} {r['min_ms']:8.2f} "
            f"{int(r['n']):5d}"
        )
    verdict = "PASS" if p50 < TARGET_P50_MS else "FAIL"
    print(f"target: bwrap print(1) p50 < {TARGET_P50_MS} ms -> {p50:.2f} ms {verdict}")
    s_verdict = "PASS" if session_p50 < TARGET_SESSION_P50_MS else "FAIL"
    print(
        f"target: warm session print(1) p50 < {TARGET_SESSION_P50_MS} ms -> {session_p50:.2f} ms {s_verdict}"
    )
    out = {
        "bench": "sandbox",
        "target_p50_ms": TARGET_P50_MS,
        "target_session_p50_ms": TARGET_SESSION_P50_MS,
        "pass": p50 < TARGET_P50_MS and session_p50 < TARGET_SESSION_P50_MS,
        "rows": rows,
        "host": {"python": platform.python_version(), "cpus": os.cpu_count(), "loadavg": os.getloadavg()},
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    path = Path(__file__).parent / "results" / "sandbox.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

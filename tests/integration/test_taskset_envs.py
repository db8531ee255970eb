"""Shipped tasksets bound into the shipped environments: every row's first observation is leak-free, and
the environment selects the row the documented seed rule names."""

from __future__ import annotations

from typing import Any

import pytest

import openenv_harness as oh
from openenv_harness.spec import observation_to_wire
from openenv_harness.tasks import TaskSource, check_no_leak, resolve

CASES = [("arith", "tasksets/arith", {}), ("coding", "tasksets/humaneval", {"sandbox": "none"})]


@pytest.mark.parametrize(("env_id", "ref", "kwargs"), CASES, ids=[c[0] for c in CASES])
def test_every_row_resets_without_leaking(env_id: str, ref: str, kwargs: dict[str, Any]) -> None:
    src = TaskSource(ref)
    manifest_env = resolve(ref).entry.openenv.env
    assert manifest_env == env_id  # the manifest's package target names this environment
    for split in src.taskset.splits:
        env = oh.make(env_id, taskset=ref, split=split, **kwargs)
        try:
            for task in src.iter_tasks(split):
                obs = env.reset(seed=task.seed, split=split, index=task.index)
                wire = observation_to_wire(obs)
                assert check_no_leak(wire, task.hidden) == [], task.task_id
                assert wire["metadata"].get("task_id") == task.task_id
        finally:
            env.close()


@pytest.mark.parametrize(("env_id", "ref", "kwargs"), CASES, ids=[c[0] for c in CASES])
def test_env_follows_the_seed_rule(env_id: str, ref: str, kwargs: dict[str, Any]) -> None:
    src = TaskSource(ref)
    split = src.taskset.splits[-1]
    env = oh.make(env_id, taskset=ref, split=split, **kwargs)
    try:
        for seed in (0, 1, 17, 12345):
            first = observation_to_wire(env.reset(seed=seed, split=split))
            again = observation_to_wire(env.reset(seed=seed, split=split))
            assert first["observation"] == again["observation"]  # same seed, same first observation
            assert first["metadata"]["task_id"] == src.select(seed=seed, split=split).task_id
    finally:
        env.close()

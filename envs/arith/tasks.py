"""Binding arith to a taskset (rows with ``question``, hidden ``answer``, ``difficulty``)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

    When that API is not importable (a minimal install), a local taskset folder with
    ``data/<split>.parquet`` is read directly and the seed picks ``random.Random(seed).randrange(n)``.

    Args:
        ref: Taskset reference: a local folder (``tasksets/arith``) or an ``hf://`` reference.
    """

    def __init__(self, ref: str) -> None:
        self.ref = ref
        self._source: Any = None
        self._rows: dict[str, list[dict[str, Any]]] = {}
        try:
            from openenv_harness.tasks import TaskSource  # type: ignore[attr-defined]
        except ImportError:
            TaskSource = None  # noqa: N806 - class alias
        if TaskSource is not None:
            self._source = TaskSource(ref)
        elif not Path(ref).is_dir():
            raise ValueError(
                f"arith taskset {ref!r} is not a local folder (and openenv_harness.tasks is missing)"
            )

    def _local_rows(self, split: str) -> list[dict[str, Any]]:
        if split not in self._rows:
            path = Path(self.ref) / "data" / f"{split}.parquet"
            if not path.exists():
                raise EnvError(ErrorCode.VALIDATION_ERROR, f"taskset {self.ref!r} has no split {split!r}")
            import pyarrow.parquet as pq

            self._rows[split] = pq.read_table(path).to_pylist()
        return self._rows[split]

    def select(self, *, seed: int, split: str, index: int | None) -> ArithTaskRow:
        """The row that ``(seed, split, index)`` selects."""
        if self._source is not None:
            try:
                task = self._source.select(seed=seed, split=split, index=index)
            except (KeyError, IndexError, ValueError) as exc:
                raise EnvError(ErrorCode.VALIDATION_ERROR, f"taskset selection failed: {exc}") from None
            row = {**dict(task.reset_kwargs), **dict(task.hidden)}
            task_id = str(task.task_id)
        else:
            rows = self._local_rows(split)
            i = random.Random(seed).randrange(len(rows)) if index is None else int(index)
            if not 0 <= i < len(rows):
                raise EnvError(
                    ErrorCode.VALIDATION_ERROR, f"index {i} out of range for {split!r} ({len(rows)} rows)"
                )
            row = rows[i]
            task_id = str(row.get("task_id", f"{split}/{i}"))
        try:
            return ArithTaskRow(
                task_id, str(row["question"]), float(row["answer"]), int(row.get("difficulty", 1))
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise EnvError(
                ErrorCode.ENV_ERROR, f"taskset row {task_id!r} is not an arith row: {exc}"
            ) from None

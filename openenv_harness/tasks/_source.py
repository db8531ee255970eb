"""Dataset-bound tasks: one row selected at reset, split into what the agent may see and ground truth.

Environments hold a :class:`TaskSource` and call :meth:`TaskSource.select` inside ``reset`` (never in
``step``: a step never advances a dataset cursor, and there is no cursor at all). The returned :class:`Task`
binds the episode: its ``reset_kwargs`` shape the first observation, its ``step_inputs`` are that episode's
per-step inputs, and its ``hidden`` ground truth is for the rubric only.

Seed -> row rule (stable across Python versions and machines): rows of a split of size ``n`` are put in a
fixed pseudo-random order, ``order = sorted(range(n), key=lambda i: sha256(f"openenv-harness/row/{i}"))``,
and seed ``s`` selects row ``order[s % n]``. Consecutive seeds ``s .. s+n-1`` therefore visit every row
exactly once (uniform sampling over seeds is exactly fair), small seeds do not all land at the top of the
file, and the rule uses no Python ``hash()`` or ``random`` state. An explicit ``index`` wins over the seed.
With neither, a fresh seed is drawn and recorded in ``Task.seed`` so the episode can be replayed.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ._resolve import ResolvedTaskset, TasksetError, resolve, resolve_shared

RESET_COLUMN = "openenv_reset"
TASK_COLUMN = "task"
STEP_COLUMN = "openenv_step"
_CONTROL_COLUMNS = (RESET_COLUMN, STEP_COLUMN)


@lru_cache(maxsize=64)
def _row_order(n: int) -> tuple[int, ...]:
    return tuple(sorted(range(n), key=lambda i: hashlib.sha256(f"openenv-harness/row/{i}".encode()).digest()))


def row_for_seed(seed: int, n: int) -> int:
    """The row index seed ``seed`` selects in a split of ``n`` rows (see the module docstring)."""
    if n <= 0:
        raise TasksetError("the split has no rows")
    return _row_order(n)[seed % n]


def _as_mapping(value: Any, column: str) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise TasksetError(f"column {column!r} holds a string that is not JSON") from None
    if not isinstance(value, dict):
        raise TasksetError(f"column {column!r} must be an object (or a JSON string of one)")
    return dict(value)


@dataclass(frozen=True)
class Task:
    """One bound task (one dataset row) for one episode.

    Attributes:
        task_id: The row's ``task_id`` (or ``id``) column, else ``{env_id}/{split}/{index}``.
        split: Split the row comes from.
        index: Row index within the split.
        seed: The seed the episode runs with (given, or drawn when none was given).
        reset_kwargs: What the environment may show: ``openenv_reset``, else ``task``, else the row minus
            hidden and control columns.
        step_inputs: Per-step inputs of this episode (the ``openenv_step`` column; empty when absent).
        hidden: Ground truth (the manifest's ``hidden_columns``), for the rubric only.
        info: The row's other visible columns (e.g. ``difficulty``), for logging and metadata.
    """

    task_id: str
    split: str
    index: int
    seed: int
    reset_kwargs: dict[str, Any]
    step_inputs: list[dict[str, Any]] = field(default_factory=list)
    hidden: dict[str, Any] = field(default_factory=dict, repr=False)
    info: dict[str, Any] = field(default_factory=dict)

    def public_metadata(self) -> dict[str, Any]:
        """Identifiers safe to put in observation metadata (no ground truth)."""
        return {"task_id": self.task_id, "split": self.split, "index": self.index, "seed": self.seed}


class TaskSource:
    """Selects tasks from a resolved taskset.

    Args:
        taskset: A :class:`ResolvedTaskset`, or a reference string (resolved once per process and shared,
            see :func:`resolve_shared`).
        default_split: Split used when ``select`` is not given one (default: the manifest's first split).

    Example:
        >>> src = TaskSource.from_ref("tasksets/arith")
        >>> task = src.select(seed=3, split="test")
        >>> task.reset_kwargs["question"]  # doctest: +SKIP
    """

    def __init__(self, taskset: ResolvedTaskset | str, default_split: str | None = None) -> None:
        if isinstance(taskset, str):
            taskset = resolve_shared(taskset)
        self.taskset = taskset
        self.default_split = default_split or taskset.splits[0]
        if self.default_split not in taskset.splits:
            raise TasksetError(f"default split {self.default_split!r} is not one of {taskset.splits}")
        self.hidden_columns = tuple(taskset.hidden_columns)
        self._ids: dict[str, dict[str, int]] = {}

    @classmethod
    def from_ref(cls, ref: str, default_split: str | None = None) -> TaskSource:
        """Resolve ``ref`` (see :func:`resolve`) and build a source on it."""
        return cls(resolve(ref), default_split)

    def __len__(self) -> int:
        return self.num_rows(self.default_split)

    def num_rows(self, split: str | None = None) -> int:
        """Number of rows in ``split`` (default split if None)."""
        return len(self.taskset.rows(split or self.default_split))

    def select(
        self,
        seed: int | None = None,
        split: str | None = None,
        index: int | None = None,
        task_id: str | None = None,
    ) -> Task:
        """Bind one row: ``task_id`` or ``index`` if given, else the row ``seed`` selects (:func:`row_for_seed`).

        Args:
            seed: Episode seed; determines the row when neither ``index`` nor ``task_id`` is given.
            split: Split to draw from (default split if None).
            index: Explicit row index (0-based, must be in range).
            task_id: Explicit task id (looked up with :meth:`index_of`); may not be combined with ``index``.

        Raises:
            TasksetError: unknown split, index out of range, or malformed control columns.
        """
        split = split or self.default_split
        rows = self.taskset.rows(split)
        n = len(rows)
        if task_id is not None:
            if index is not None:
                raise TasksetError("give index or task_id, not both")
            index = self.index_of(task_id, split)
        if seed is None:
            seed = random.SystemRandom().randrange(2**31)
        elif not isinstance(seed, int) or isinstance(seed, bool):
            raise TasksetError(f"seed must be an integer, got {type(seed).__name__}")
        if index is None:
            index = row_for_seed(seed, n)
        elif not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < n:
            raise TasksetError(f"index {index!r} out of range for split {split!r} ({n} rows)")
        return self.task_from_row(rows[index], split, index, seed)

    def index_of(self, task_id: str, split: str | None = None) -> int:
        """Row index of ``task_id`` in ``split`` (the ``task_id``/``id`` column; lookup table built once).

        Raises:
            TasksetError: if no row has that id.
        """
        split = split or self.default_split
        if split not in self._ids:
            rows = self.taskset.rows(split)
            col = "task_id" if "task_id" in rows.column_names else "id" if "id" in rows.column_names else None
            ids = (
                [str(v) for v in rows[col]]
                if col
                else [f"{self.taskset.entry.id}/{split}/{i}" for i in range(len(rows))]
            )
            self._ids[split] = {v: i for i, v in reversed(list(enumerate(ids)))}
        try:
            return self._ids[split][task_id]
        except KeyError:
            raise TasksetError(f"no task with task_id {task_id!r} in split {split!r}") from None

    def task_from_row(self, row: dict[str, Any], split: str, index: int, seed: int) -> Task:
        """Split a raw row into a :class:`Task` (reset kwargs, step inputs, hidden ground truth)."""
        hidden = {c: row[c] for c in self.hidden_columns if c in row}
        visible = {k: v for k, v in row.items() if k not in self.hidden_columns and k not in _CONTROL_COLUMNS}
        if row.get(RESET_COLUMN) is not None:
            reset_kwargs = _as_mapping(row[RESET_COLUMN], RESET_COLUMN)
        elif row.get(TASK_COLUMN) is not None:
            reset_kwargs = _as_mapping(row[TASK_COLUMN], TASK_COLUMN)
        else:
            reset_kwargs = dict(visible)
        steps_raw = row.get(STEP_COLUMN)
        if isinstance(steps_raw, str):
            try:
                steps_raw = json.loads(steps_raw)
            except json.JSONDecodeError:
                raise TasksetError(f"column {STEP_COLUMN!r} holds a string that is not JSON") from None
        if isinstance(steps_raw, dict):
            steps_raw = [steps_raw]
        step_inputs = [_as_mapping(s, STEP_COLUMN) for s in (steps_raw or [])]
        task_id = row.get("task_id") or row.get("id") or f"{self.taskset.entry.id}/{split}/{index}"
        info = {k: v for k, v in visible.items() if k != TASK_COLUMN}
        return Task(str(task_id), split, index, int(seed), reset_kwargs, step_inputs, hidden, info)

    def iter_tasks(self, split: str | None = None) -> Any:
        """Every row of ``split`` as a Task, in order, with ``seed = index`` (for audits such as leak checks)."""
        split = split or self.default_split
        rows = self.taskset.rows(split)
        for i in range(len(rows)):
            yield self.task_from_row(rows[i], split, i, i)

"""Evals run an errored episode once more before writing it; the bundle keeps the retry's outcome."""

from __future__ import annotations

from dataclasses import dataclass

from openenv_harness.evals._retry import with_retry


@dataclass
class _Ep:
    task: int
    error: str | None = None


async def test_errored_episodes_run_once_more_and_keep_their_first_error() -> None:
    calls: list[list[int]] = []
    failing = {1: 2, 3: 1}  # task -> attempts that fail (task 1 fails twice: it stays an error)

    async def run(tasks: list[int]) -> list[_Ep]:
        calls.append(list(tasks))
        out = []
        for t in tasks:
            left = failing.get(t, 0)
            failing[t] = left - 1
            out.append(_Ep(t, f"CONNECTION_LOST: attempt of {t}" if left > 0 else None))
        return out

    episodes, first = await with_retry(run, [0, 1, 2, 3])
    assert calls == [[0, 1, 2, 3], [1, 3]]  # only the errored ones, once, in order
    assert [e.task for e in episodes] == [0, 1, 2, 3]
    assert [e.error is None for e in episodes] == [True, False, True, True]
    assert first == [None, "CONNECTION_LOST: attempt of 1", None, "CONNECTION_LOST: attempt of 3"]


async def test_nothing_to_retry_runs_once() -> None:
    calls = 0

    async def run(tasks: list[int]) -> list[_Ep]:
        nonlocal calls
        calls += 1
        return [_Ep(t) for t in tasks]

    episodes, first = await with_retry(run, [5, 6])
    assert calls == 1 and first == [None, None] and [e.task for e in episodes] == [5, 6]

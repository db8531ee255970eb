"""Evals retry an errored episode once, so a replica (or server) that dies mid-run costs a bundle nothing.

An episode that ends as an infrastructure error (lost connection, timeout, crashed env, no reward; see
:mod:`openenv_harness.rollout._types`) is run again, once, with the same task and seed, before its record is
written. Its client reconnects through the provider, which hands it another server when it has one (the
``ray`` provider avoids the replica the client left; ``local`` restarts a crashed process), so an episode
the dead server held is replayed elsewhere. The retry's outcome is what the bundle keeps (an error again is
recorded as an error); the first error is kept beside it under ``retried``. Nothing is written before the
retry has finished, so a record is never duplicated. Invalid actions are the policy's answers, not errors, and
are never retried.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


async def with_retry(
    run: Callable[[list[T]], Awaitable[list[Any]]], tasks: list[T], *, what: str = "eval"
) -> tuple[list[Any], list[str | None]]:
    """Run ``tasks`` with ``run`` and run the ones whose episode errored once more.

    Args:
        run: Runs a list of tasks and returns one episode per task, in order (an object with ``error``).
        tasks: The tasks.
        what: Named in the log line.

    Returns:
        ``(episodes, first_errors)``: the final episode of each task, and for a retried one the error of
        its first attempt (None when it was not retried).
    """
    episodes = list(await run(tasks))
    first: list[str | None] = [None] * len(episodes)
    again = [i for i, ep in enumerate(episodes) if ep.error is not None]
    if not again:
        return episodes, first
    log.warning(
        "%s: %d episode(s) ended in an error (%s); running them once more",
        what,
        len(again),
        episodes[again[0]].error,
    )
    redo = await run([tasks[i] for i in again])
    for i, ep in zip(again, redo, strict=True):
        first[i] = episodes[i].error
        episodes[i] = ep
    return episodes, first

"""Env-facing scoring: evaluate a rubric tree's components, catch their failures, reduce to a reward.

Each top-level component is evaluated on its own; a failure (exception, NaN) becomes an entry in
``RewardResult.errors`` instead of a silent 0, and the other components still report. Nested rubrics record
their values while this runs (see ``_base._RECORD``) and are reported under dotted names.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from typing import Any

from ._base import _RECORD, Rubric
from ._config import RubricError
from ._result import RewardResult, combine
from ._sync import run_sync


def resolve_weights(rubric: Rubric, weights: Mapping[str, float] | None) -> dict[str, float]:
    """The rubric's default weights overridden by ``weights``.

    Raises:
        RubricError: for a name that is not a component or a negative / non-finite weight.
    """
    effective = rubric.default_weights()
    if not weights:
        return effective
    for name, w in weights.items():
        if name not in effective:
            raise RubricError(
                f"weight for unknown reward component {name!r}; components: {sorted(effective)}"
            )
        w = float(w)
        if not math.isfinite(w) or w < 0:
            raise RubricError(f"weight of {name!r} must be a finite number >= 0, got {w}")
        effective[name] = w
    return effective


def _parts(rubric: Rubric, weights: dict[str, float], skip_zero_weights: bool) -> dict[str, Rubric]:
    parts = rubric.reward_components()
    if skip_zero_weights:
        return {name: part for name, part in parts.items() if weights[name] != 0.0}
    return parts


def _error_text(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, RubricError) else f"{type(exc).__name__}: {exc}"


def _finish(
    rubric: Rubric,
    parts: dict[str, Rubric],
    values: dict[str, float],
    errors: dict[str, str],
    record: dict[int, float],
    weights: dict[str, float],
    error_reward: float | None,
) -> RewardResult:
    components = dict(values)
    # Nested rubrics that ran (diagnostics): only walk parts that have children, leaves are already in.
    for name, part in parts.items():
        if part._children:
            for sub, r in part.named_rubrics(prefix=name):
                if id(r) in record:
                    components[sub] = record[id(r)]
    reward = combine(values, weights, rubric.normalizes)
    if reward is None:
        reward = error_reward
    return RewardResult(reward, components, weights, errors, rubric.normalizes)


def score_sync(
    rubric: Rubric,
    action: Any,
    observation: Any,
    weights: Mapping[str, float] | None,
    error_reward: float | None,
    skip_zero_weights: bool = False,
) -> RewardResult:
    """Implementation of :meth:`Rubric.score`."""
    if rubric.is_async:
        coro = score_async(rubric, action, observation, weights, error_reward, skip_zero_weights)
        return run_sync(coro)  # type: ignore[no-any-return]
    effective = resolve_weights(rubric, weights)
    parts = _parts(rubric, effective, skip_zero_weights)
    values: dict[str, float] = {}
    errors: dict[str, str] = {}
    record: dict[int, float] = {}
    token = _RECORD.set(record)
    try:
        for name, part in parts.items():
            try:
                values[name] = part(action, observation)
            except Exception as exc:  # a failing component is reported, never scored 0
                errors[name] = _error_text(exc)
    finally:
        _RECORD.reset(token)
    return _finish(rubric, parts, values, errors, record, effective, error_reward)


async def score_async(
    rubric: Rubric,
    action: Any,
    observation: Any,
    weights: Mapping[str, float] | None,
    error_reward: float | None,
    skip_zero_weights: bool = False,
) -> RewardResult:
    """Implementation of :meth:`Rubric.ascore`: components run concurrently."""
    effective = resolve_weights(rubric, weights)
    parts = _parts(rubric, effective, skip_zero_weights)
    record: dict[int, float] = {}
    token = _RECORD.set(record)
    try:
        outs = await asyncio.gather(
            *(p.acall(action, observation) for p in parts.values()), return_exceptions=True
        )
    finally:
        _RECORD.reset(token)
    values: dict[str, float] = {}
    errors: dict[str, str] = {}
    for name, out in zip(parts, outs, strict=True):
        if isinstance(out, BaseException):
            if not isinstance(out, Exception):  # cancellation and the like are not component failures
                raise out
            errors[name] = _error_text(out)
        else:
            values[name] = out
    return _finish(rubric, parts, values, errors, record, effective, error_reward)

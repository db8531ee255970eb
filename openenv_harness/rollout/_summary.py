"""Aggregates over episodes: reward, components, success, errors (kept apart from wrong answers)."""

from __future__ import annotations

import time

from ._types import Episode


def summarize(episodes: list[Episode], success_component: str | None = "correct") -> dict[str, float]:
    """Aggregate metrics of a batch of episodes.

    ``success`` is over the episodes that did not error: the mean of ``success_component`` (the last turn's)
    when episodes report it, else the fraction with a positive reward. Errored episodes are counted only in ``error_rate`` (an
    outage is not a wrong answer); invalid actions count as failures.

    Returns:
        ``n``, ``error_rate``, ``invalid_rate``, ``reward_mean``, ``turns_mean``, ``success``,
        ``first_turn_success`` and ``component/<name>`` means.
    """
    n = len(episodes)
    if n == 0:
        return {"n": 0.0}
    ok = [e for e in episodes if e.error is None]
    m = max(1, len(ok))
    out: dict[str, float] = {
        "n": float(n),
        "error_rate": (n - len(ok)) / n,
        "invalid_rate": sum(e.invalid_action is not None for e in ok) / m,
        "reward_mean": sum(float(e.reward or 0.0) for e in ok) / m,
        "turns_mean": sum(e.num_turns for e in ok) / m,
    }
    comps: dict[str, list[float]] = {}
    for e in ok:
        for k, v in e.components.items():
            comps.setdefault(k, []).append(v)
    for k, vs in comps.items():
        out[f"component/{k}"] = sum(vs) / len(vs)

    use_component = bool(success_component) and success_component in comps

    def solved(e: Episode) -> float:
        if use_component:  # e.g. a pass fraction: the mean of the component is the success rate
            return float(e.components.get(str(success_component), 0.0))
        return 1.0 if float(e.reward or 0.0) > 0 else 0.0

    out["success"] = sum(solved(e) for e in ok) / m
    # Solved on the first turn: the share a single-turn policy would get; the gap to ``success`` is what later
    # turns (feedback, retries) add.
    out["first_turn_success"] = sum(solved(e) for e in ok if e.num_turns == 1) / m
    return out


class Throughput:
    """Counts items per second over a window (rollout throughput for TensorBoard)."""

    def __init__(self) -> None:
        self._t = time.monotonic()

    def rate(self, count: int) -> float:
        """``count`` per second since the last call."""
        now = time.monotonic()
        dt, self._t = max(1e-9, now - self._t), now
        return count / dt

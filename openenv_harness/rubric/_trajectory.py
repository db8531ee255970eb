"""Trajectory rubrics: score a whole episode at its end and give every step discounted credit.

Each step's call records ``(action, observation)`` and returns ``intermediate_reward``; the step whose
observation has ``done=True`` returns the trajectory score instead. :meth:`TrajectoryRubric.finish` returns the
per-step credit, the discounted return-to-go ``G_t = r_t + gamma * G_{t+1}`` of those step rewards.

**Truncation** (an episode cut by a step timeout, a max-steps limit or the orchestrator) means the episode ended
without a terminal observation from the environment. Then call ``finish(truncated=True)`` (``reset()`` does it
for an unfinished episode and keeps the result in ``previous_result``, so nothing is lost); ``config.on_truncation`` decides the final score:
``"score"`` scores the partial trajectory (``score_trajectory`` gets ``truncated=True``), ``"fail"`` gives
``fail_score``, ``"none"`` gives no score (credits are empty; the trainer drops the episode). An observation with
``done=True`` and ``metadata["truncated"] = True`` counts as truncated as well.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ._base import Rubric
from ._config import RubricError


@dataclass(frozen=True)
class Step:
    """One recorded step of a trajectory."""

    action: Any
    observation: Any


@dataclass(frozen=True)
class TrajectoryResult:
    """The outcome of a finished trajectory.

    Attributes:
        score: The trajectory score (None when truncated with ``on_truncation="none"`` or with no steps).
        credits: Per-step credit (discounted return-to-go), one per recorded step; empty when ``score`` is None.
        truncated: Whether the episode was cut short.
        num_steps: Steps recorded.
    """

    score: float | None
    credits: list[float] = field(default_factory=list)
    truncated: bool = False
    num_steps: int = 0


class TrajectoryRubric(Rubric):
    """Base of episode-level rubrics: override :meth:`score_trajectory`.

    Args:
        config: A ``TrajectoryRubric.Config`` (subclasses may extend it).
        **overrides: Config fields.
    """

    @dataclass
    class Config:
        """Trajectory parameters.

        Attributes:
            gamma: Discount of the return-to-go credit (1.0 = every step gets the full final score).
            intermediate_reward: Reward of the steps before the last.
            on_truncation: ``"score"`` | ``"fail"`` | ``"none"`` (see module docs).
            fail_score: Final score of a truncated episode under ``"fail"``.
        """

        gamma: float = 1.0
        intermediate_reward: float = 0.0
        on_truncation: Literal["score", "fail", "none"] = "score"
        fail_score: float = 0.0

        def __post_init__(self) -> None:
            if not 0.0 <= self.gamma <= 1.0:
                raise ValueError(f"gamma: must be in [0, 1], got {self.gamma}")

    config: Config

    def __init__(self, config: Any | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.steps: list[Step] = []
        self.last_result: TrajectoryResult | None = None
        self.previous_result: TrajectoryResult | None = None

    def score_trajectory(self, steps: Sequence[Step], truncated: bool) -> float:
        """Score a whole episode. Override.

        Args:
            steps: The recorded steps, in order (``steps[-1].observation.done`` unless truncated).
            truncated: True when the episode was cut short.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement score_trajectory(steps, truncated)")

    def forward(self, action: Any, observation: Any) -> float:
        """Record the step; return ``intermediate_reward``, or the trajectory score on the final step."""
        if self.last_result is not None:
            raise RubricError(f"{self._label()}: the trajectory is finished; reset() before the next episode")
        self.steps.append(Step(action, observation))
        if not getattr(observation, "done", False):
            return self.config.intermediate_reward
        meta = getattr(observation, "metadata", None) or {}
        result = self.finish(truncated=bool(meta.get("truncated", False)))
        return result.score if result.score is not None else self.config.fail_score

    def finish(self, truncated: bool = False) -> TrajectoryResult:
        """End the episode: score it and compute per-step credit. Idempotent.

        Args:
            truncated: The episode was cut short (timeout, step limit) rather than ended by the environment.
        """
        if self.last_result is not None:
            return self.last_result
        n = len(self.steps)
        score: float | None
        if n == 0:
            score = None
        elif truncated and self.config.on_truncation == "fail":
            score = self.config.fail_score
        elif truncated and self.config.on_truncation == "none":
            score = None
        else:
            score = self._check(self.score_trajectory(list(self.steps), truncated))
        credits: list[float] = []
        if score is not None:
            rewards = [self.config.intermediate_reward] * (n - 1) + [score]
            running = 0.0
            for r in reversed(rewards):
                running = r + self.config.gamma * running
                credits.append(running)
            credits.reverse()
        self.last_result = TrajectoryResult(score, credits, truncated, n)
        return self.last_result

    def on_reset(self) -> None:
        """Finish an unfinished episode as truncated, keep its result in ``previous_result``, clear state."""
        self.previous_result = self.finish(truncated=True) if self.steps else self.last_result
        self.steps = []
        self.last_result = None

    def get_extra_state(self) -> dict[str, Any]:
        """Step count and whether the episode is finished (steps themselves hold live objects)."""
        return {"num_steps": len(self.steps), "finished": self.last_result is not None}


def trajectory_credits(rubric: Rubric, weights: Mapping[str, float] | None = None) -> list[float] | None:
    """Weighted per-step credit of a finished episode, over the root's trajectory components.

    ``sum(weight[name] * component.credits)`` over the :class:`TrajectoryRubric` components of ``rubric``
    (:meth:`Rubric.reward_components`), visited in sorted name order like :func:`combine`; components with
    weight 0 and components that are not trajectory rubrics are left out (their per-step rewards are already on
    each observation).

    Args:
        rubric: The env's root rubric, after the episode finished (``done`` or ``finish(truncated=True)``).
        weights: The weights in effect (default: the rubric's defaults).

    Returns:
        One credit per step, or None when there is no trajectory component or one of the weighted ones has no
        score (unfinished, or truncated with ``on_truncation="none"``).
    """
    effective = {**rubric.default_weights(), **(weights or {})}
    parts = rubric.reward_components()
    total: list[float] | None = None
    for name in sorted(parts):
        part, w = parts[name], effective.get(name, 0.0)
        if not isinstance(part, TrajectoryRubric) or w == 0.0:
            continue
        res = part.last_result
        if res is None or res.score is None:
            return None
        scaled = [w * c for c in res.credits]
        total = scaled if total is None else [a + b for a, b in zip(total, scaled, strict=True)]
    return total

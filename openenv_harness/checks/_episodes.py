"""Episodes that ``check_env`` plays: one rollout of a policy through a checked session, and what it saw."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..spec import Observation
from ._target import Session


def obs_dict(obs: Observation) -> dict[str, Any]:
    """An observation as the JSON-like dict a policy sees."""
    return obs.model_dump(mode="json")


class Rollout:
    """What one episode produced: observations (the reset's first), actions sent, return and step counts."""

    def __init__(self) -> None:
        self.observations: list[Observation] = []
        self.actions: list[dict[str, Any]] = []
        self.ret = 0.0
        self.done = False
        self.final: Observation | None = None
        self.step_counts: list[int] = []


def rollout(
    session: Session,
    seed: int,
    reset_kwargs: dict[str, Any],
    policy: Callable[[dict[str, Any]], dict[str, Any]],
    max_steps: int,
) -> Rollout:
    """Reset with ``seed`` and step ``policy`` until done or ``max_steps``; EnvErrors propagate."""
    out = Rollout()
    obs = session.reset(seed, **reset_kwargs)
    out.observations.append(obs)
    for _ in range(max_steps):
        action = policy(obs_dict(obs))
        out.actions.append(action)
        obs = session.step(action)
        out.observations.append(obs)
        out.step_counts.append(session.state().step_count)
        if obs.reward is not None:
            out.ret += float(obs.reward)
        if obs.done:
            out.done = True
            break
    out.final = obs
    return out

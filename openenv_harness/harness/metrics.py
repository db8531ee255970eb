"""Per-step training scalars, shared by the learners.

Errored episodes (reward None) are counted in ``rollout/error_rate`` and left out of every reward statistic,
so an outage never looks like a wrong answer; a group's zero-signal test is over its scored episodes.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

from ..rollout import EngineStats, Episode
from ..rollout._versions import runtime_version

if TYPE_CHECKING:
    from .train import TrainContext


def step_metrics(
    episodes: list[Episode], group_size: int, elapsed_s: float | None = None
) -> dict[str, float]:
    """Reward mean/std, components, turns, zero-signal group fraction, error and invalid-action rates."""
    scored = [e for e in episodes if e.error is None]
    rewards = [float(e.reward or 0.0) for e in scored]
    n = max(1, len(episodes))
    out: dict[str, float] = {
        "rollout/error_rate": (len(episodes) - len(scored)) / n,
        "rollout/invalid_action_rate": sum(e.invalid_action is not None for e in scored) / n,
        "rollout/turns_mean": statistics.fmean([e.num_turns for e in scored]) if scored else 0.0,
        "rollout/truncated_rate": sum(e.truncated for e in scored) / n,
    }
    if rewards:
        out["reward/mean"] = statistics.fmean(rewards)
        out["reward/std"] = statistics.pstdev(rewards) if len(rewards) > 1 else 0.0
    comps: dict[str, list[float]] = {}
    for e in scored:
        for k, v in e.components.items():
            comps.setdefault(k, []).append(v)
    for k, vs in comps.items():
        out[f"reward/component/{k}"] = statistics.fmean(vs)
    g = max(1, group_size)
    groups = [episodes[i : i + g] for i in range(0, len(episodes), g)]
    zero = 0
    for grp in groups:
        rs = [float(e.reward or 0.0) for e in grp if e.error is None]
        zero += len(rs) < 2 or max(rs) == min(rs)
    out["grpo/zero_signal_group_frac"] = zero / max(1, len(groups))
    if elapsed_s:
        out["rollout/episodes_per_s"] = len(episodes) / max(elapsed_s, 1e-9)
    return out


def log_rollouts(
    ctx: TrainContext, episodes: list[Episode], step: int, stats: EngineStats, wall_s: float
) -> dict[str, float]:
    """Write a step's episodes and scalars (rewards, components, config seen, time split); returns them."""
    ctx.logger.episodes(episodes, {s.name: runtime_version(s.rt) for s in ctx.slots})
    for env in dict.fromkeys(e.env or ctx.conf.env.id for e in episodes):  # per env, in batch order
        mine = [e for e in episodes if e.error is None and (e.env or ctx.conf.env.id) == env]
        ctx.logger.reward_breakdown(mine, step, env)
    scalars = step_metrics(episodes, ctx.conf.learner.group_size, wall_s)
    scalars["time/generation_s"] = stats.generation_s
    scalars["time/env_s"] = stats.env_s
    scalars["rollout/turns_per_s"] = stats.turns / max(1e-9, wall_s)
    versions = [t.config_version for e in episodes for t in e.turns if t.config_version is not None]
    if versions:
        scalars["config/observed_version"] = float(max(versions))
    first = next((e.turns[-1] for e in episodes if e.turns), None)
    for name, w in (first.weights if first else {}).items():
        scalars[f"config/observed_weight/{name}"] = w
    ctx.logger.scalars(scalars, step)
    if "first_reward" not in ctx.metrics and "reward/mean" in scalars:
        ctx.metrics["first_reward"] = scalars["reward/mean"]
    return scalars

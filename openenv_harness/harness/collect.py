"""The ``collect`` learner: roll out groups of multi-turn episodes, write trajectories and metrics, no updates.

Each step draws ``learner.groups_per_step`` groups (env by mixture weight, task by the env's sampler, see
:mod:`.plan`) and runs ``learner.group_size`` episodes of each (a group shares one task and seed), exactly as
GRPO would, feeding each group's rewards back to the curriculum and the per-env normaliser, so a collect run
shows what a training run would see: ``episodes.jsonl`` and the same TensorBoard scalars, without weight
updates.
"""

from __future__ import annotations

import time
from typing import Any

from ..rollout import EngineStats, Policy, make_policy
from .metrics import log_rollouts
from .mixture import run_groups
from .suite_eval import due_during_training, run_suite_eval, suite_configured
from .train import TrainContext


def run_collect(ctx: TrainContext, policy: Policy | None = None) -> dict[str, Any]:
    """Roll out ``learner.max_steps`` batches of groups; returns ``ctx.metrics``.

    Args:
        ctx: The run.
        policy: Act with this policy in every env instead of ``policy.kind``'s (one per env).
    """
    from tqdm import tqdm

    conf = ctx.conf
    policies = [policy or make_policy(s.conf.policy, s.ad) for s in ctx.slots]
    ctx.metrics["policy"] = policies[0].describe()
    plan = ctx.planner()
    g = conf.learner.group_size
    bar = tqdm(range(conf.learner.max_steps), desc="collect", disable=not conf.logger.progress)
    suite = suite_configured(ctx.cfg)
    try:
        if suite:
            run_suite_eval(ctx, 0)
        for step in bar:
            ctx.apply_schedules(step)
            groups = plan.draw(conf.learner.groups_per_step)
            t0, stats = time.monotonic(), EngineStats()
            eps = run_groups(ctx.slots, groups, g, policies, phase="train", stats=stats)
            for i, e in enumerate(eps):
                e.step, e.group = step, i // g
            normed = plan.feed(eps, g)
            scalars = log_rollouts(ctx, eps, step, stats, time.monotonic() - t0)
            ctx.logger.scalars(plan.scalars(eps, normed, g), step)
            bar.set_postfix(reward=f"{scalars.get('reward/mean', float('nan')):.3f}")
            ctx.metrics["steps"] = step + 1
            if suite and due_during_training(ctx.cfg, step + 1):
                run_suite_eval(ctx, step + 1)
        if suite:
            run_suite_eval(ctx, conf.learner.max_steps)
    finally:
        for p in {id(p): p for p in policies}.values():
            p.close()
    ctx.metrics["last"] = dict(ctx.logger.last)
    ctx.metrics["groups_drawn"] = dict(zip(plan.names, plan.groups_drawn, strict=True))
    ctx.metrics["planner"] = plan.state_dict()  # samplers' records (curriculum counters), normaliser
    return ctx.metrics

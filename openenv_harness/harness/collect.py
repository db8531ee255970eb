"""The ``collect`` learner: roll out groups of multi-turn episodes, write trajectories and metrics, no updates.

Each step draws ``learner.groups_per_step`` tasks from the training pool and runs ``learner.group_size``
episodes of each (a group shares one task and seed), exactly as GRPO would, so a collect run shows what a
training run would see: ``episodes.jsonl`` and the same TensorBoard scalars, without weight updates.
"""

from __future__ import annotations

import random
import time
from typing import Any

from ..rollout import EngineStats, make_policy, run_episodes
from .metrics import log_rollouts
from .suite_eval import due_during_training, run_suite_eval, suite_configured
from .train import TrainContext


def run_collect(ctx: TrainContext) -> dict[str, Any]:
    """Roll out ``learner.max_steps`` batches of groups; returns ``ctx.metrics``."""
    from tqdm import tqdm

    conf = ctx.conf
    policy = make_policy(conf.policy, ctx.adapter)
    ctx.metrics["policy"] = policy.describe()
    tasks = ctx.train_tasks()
    order = random.Random(conf.experiment.seed + 1)
    g = conf.learner.group_size
    bar = tqdm(range(conf.learner.max_steps), desc="collect", disable=not conf.logger.progress)
    suite = suite_configured(ctx.cfg)
    try:
        if suite:
            run_suite_eval(ctx, 0)
        for step in bar:
            ctx.apply_schedules(step)
            chosen = [order.choice(tasks) for _ in range(conf.learner.groups_per_step)]
            batch = [t for t in chosen for _ in range(g)]  # one group = one task and seed
            t0, stats = time.monotonic(), EngineStats()
            eps = ctx.runtime.run(
                run_episodes(
                    ctx.runtime,
                    policy,
                    ctx.adapter,
                    batch,
                    system_prompt=conf.policy.system_prompt,
                    max_turns=conf.env.max_turns,
                    phase="train",
                    stats=stats,
                )
            )
            for i, e in enumerate(eps):
                e.step, e.group = step, i // g
            scalars = log_rollouts(ctx, eps, step, stats, time.monotonic() - t0)
            bar.set_postfix(reward=f"{scalars.get('reward/mean', float('nan')):.3f}")
            ctx.metrics["steps"] = step + 1
            if suite and due_during_training(ctx.cfg, step + 1):
                run_suite_eval(ctx, step + 1)
        if suite:
            run_suite_eval(ctx, conf.learner.max_steps)
    finally:
        policy.close()
    ctx.metrics["last"] = dict(ctx.logger.last)
    return ctx.metrics

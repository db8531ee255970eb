"""``mode=train``: env servers up, rollouts -> env rewards -> learner step, schedules pushed every step.

:func:`run_train` is the pure function behind the CLI. It validates the schedules before anything starts,
starts the env servers through the configured provider (stopped again on exit, Ctrl-C included), pushes the
rubric's overrides, then runs the learner (``grpo`` or ``collect``). Before each learner step the schedules
are evaluated and pushed with ``POST /config`` to every server; the values, the servers' effective weights
and ``config_version`` go to TensorBoard. With ``eval.num_tasks > 0`` greedy held-out evals run before and
after training (and every ``eval.every_n_steps``); with ``eval.suite`` set, so does that suite
(:mod:`.suite_eval`), each run written as a bundle under ``<run dir>/evals/``.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ..rubric import config_update
from .adapters import EnvAdapter, adapter_for
from .interrupts import graceful_shutdown
from .policies import Policy, make_policy
from .records import RunLogger, RunRecord, package_versions
from .rollout import Episode, Task, Throughput, first_observations, run_episodes, summarize
from .runtime import EnvRuntime
from .schedules import Schedule, evaluate_targets, make_schedules, nest
from .suite_eval import check_suite, due_during_training, run_suite_eval, suite_configured

_TRAIN_SEED_SPACE = 1_000_000  # train seeds in [0, 1e6); eval seeds in [1e6, 2e6): disjoint by construction


def run_dir_of(cfg: DictConfig) -> Path:
    """The Hydra run dir (job dir in a multirun), or ``outputs/manual/<time>`` outside Hydra."""
    try:
        from hydra.core.hydra_config import HydraConfig

        out = Path(HydraConfig.get().runtime.output_dir)
    except ValueError:  # not inside a Hydra job (called from Python)
        out = Path("outputs") / "manual" / time.strftime("%Y-%m-%d_%H-%M-%S")
    out.mkdir(parents=True, exist_ok=True)
    return out


@dataclass
class TrainContext:
    """What a learner needs: config, servers, adapter, outputs, schedules."""

    cfg: DictConfig
    runtime: EnvRuntime
    adapter: EnvAdapter
    logger: RunLogger
    schedules: dict[str, Schedule]
    run_dir: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    pushed: list[dict[str, Any]] = field(default_factory=list)

    def train_tasks(self) -> list[Task]:
        """The training task pool: ``learner.num_tasks`` tasks.

        With a taskset (``taskset.ref``), the taskset's sampler (``taskset.sampler`` over ``taskset.split``)
        draws rows, each bound at reset with ``split``/``index``; otherwise ``learner.num_tasks`` seeds drawn
        from ``experiment.seed`` pick the env's own generated tasks.
        """
        if taskset_ref(self.cfg):
            draws = taskset_sampler(self.cfg, evaluation=False).take(int(self.cfg.learner.num_tasks))
            base = dict(self.cfg.env.reset_kwargs)
            return [Task(d.seed, {**base, "split": d.split, "index": d.index}) for d in draws]
        rng = random.Random(self.cfg.experiment.seed)
        seeds = rng.sample(range(_TRAIN_SEED_SPACE), self.cfg.learner.num_tasks)
        return [Task(s, dict(self.cfg.env.reset_kwargs)) for s in seeds]

    def heldout_tasks(self, seen_prompts: set[str]) -> list[Task]:
        """``eval.num_tasks`` tasks whose prompts never occur in training (and are pairwise distinct).

        Seeds alone are not enough: small generators (e.g. one-digit sums) repeat questions across seeds, so
        candidates are drawn from ``eval.seed`` and filtered by their first observation's text.
        """
        n = int(self.cfg.eval.num_tasks)
        if n <= 0:
            return []
        if taskset_ref(self.cfg):  # a held-out split: rows of taskset.eval_split, in order
            sampler = taskset_sampler(self.cfg, evaluation=True)
            base = dict(self.cfg.env.reset_kwargs)
            draws = sampler.take(min(n, len(sampler)))
            return [Task(d.seed, {**base, "split": d.split, "index": d.index}) for d in draws]
        rng = random.Random(self.cfg.eval.seed)
        kwargs = {**dict(self.cfg.env.reset_kwargs), **dict(self.cfg.eval.reset_kwargs)}
        out: list[Task] = []
        seen = set(seen_prompts)
        for _ in range(4):  # a few rounds of candidates; small task spaces may run out
            cands = [Task(_TRAIN_SEED_SPACE + rng.randrange(_TRAIN_SEED_SPACE), kwargs) for _ in range(4 * n)]
            firsts = self.runtime.run(first_observations(self.runtime, cands))
            for task, obs in zip(cands, firsts, strict=True):
                text = self.adapter.render({k: v for k, v in obs.items() if not k.startswith("_")})
                if text not in seen:
                    seen.add(text)
                    out.append(task)
                if len(out) == n:
                    return out
        return out

    def apply_schedules(self, step: int) -> dict[str, float]:
        """Evaluate the schedules at ``step``, push them to every server, log values and effective config."""
        if not self.schedules or step % max(1, int(self.cfg.schedule.push_every)) != 0:
            return {}
        values = evaluate_targets(self.schedules, step)
        snaps = self.runtime.push_config(nest(values))
        self.pushed.append(
            {"step": step, "values": values, "versions": [s.get("config_version") for s in snaps]}
        )
        scalars = {f"schedule/{path}": v for path, v in values.items()}
        if snaps:
            effective = snaps[0].get("config", {})
            for path in values:
                node: Any = effective
                for part in path.split("."):
                    node = node.get(part) if isinstance(node, dict) else None
                if isinstance(node, int | float):
                    scalars[f"config/{path}"] = float(node)
            scalars["config/version"] = float(snaps[0].get("config_version", 0))
        self.logger.scalars(scalars, step)
        return values

    def evaluate(self, policy: Policy, tasks: list[Task], step: int, phase: str) -> dict[str, float]:
        """Greedy (``eval.temperature``) episodes on ``tasks``; metrics logged under ``eval/``."""
        if not tasks:
            return {}
        eps = self.runtime.run(
            run_episodes(
                self.runtime,
                policy,
                self.adapter,
                tasks,
                system_prompt=self.cfg.policy.system_prompt,
                max_turns=self.cfg.env.max_turns,
                temperature=self.cfg.eval.temperature,
                phase=phase,
            )
        )
        for e in eps:
            e.step = step
        self.logger.episodes(eps)
        summary = summarize(eps)
        self.logger.scalars({f"eval/{k}": v for k, v in summary.items()}, step)
        self.metrics[f"eval_{phase}"] = summary
        return summary


def taskset_ref(cfg: DictConfig) -> str | None:
    """The configured taskset reference, or None when the env generates its own tasks."""
    ts = cfg.get("taskset")
    return str(ts.ref) if ts is not None and ts.get("ref") else None


def taskset_sampler(cfg: DictConfig, evaluation: bool) -> Any:
    """The taskset's sampler over its train split (or, for evaluation, its eval split in order)."""
    from openenv_harness.tasks import resolve_shared, sampler_for

    resolved = resolve_shared(str(cfg.taskset.ref))
    split = str(cfg.taskset.eval_split if evaluation else cfg.taskset.split)
    return sampler_for(cfg.taskset, len(resolved.rows(split)), evaluation=evaluation)


def env_kwargs_of(cfg: DictConfig) -> dict[str, Any]:
    """The env's constructor arguments, with ``taskset=<ref>`` when a taskset is configured.

    Raises:
        ValueError: the env cannot bind a taskset (its constructor takes no ``taskset`` argument).
    """
    import inspect

    from openenv_harness.spec import spec

    kwargs: dict[str, Any] = dict(OmegaConf.to_container(cfg.env.kwargs, resolve=True) or {})  # type: ignore[arg-type]
    ref = taskset_ref(cfg)
    if ref:
        params = inspect.signature(spec(str(cfg.env.id)).load().__init__).parameters
        if "taskset" not in params:
            raise ValueError(
                f"env {cfg.env.id!r} cannot bind a taskset (taskset.ref={ref}): its constructor has no taskset argument"
            )
        kwargs["taskset"] = ref
    return kwargs


def step_metrics(
    episodes: list[Episode], group_size: int, elapsed_s: float | None = None
) -> dict[str, float]:
    """Per-step scalars: reward mean/std, components, zero-signal group fraction, error rate, throughput."""
    rewards = [e.reward for e in episodes]
    out: dict[str, float] = {
        "reward/mean": statistics.fmean(rewards) if rewards else 0.0,
        "reward/std": statistics.pstdev(rewards) if len(rewards) > 1 else 0.0,
        "rollout/error_rate": sum(e.error is not None for e in episodes) / max(1, len(episodes)),
    }
    comps: dict[str, list[float]] = {}
    for e in episodes:
        for k, v in e.components.items():
            comps.setdefault(k, []).append(v)
    for k, vs in comps.items():
        out[f"reward/component/{k}"] = statistics.fmean(vs)
    groups = [rewards[i : i + group_size] for i in range(0, len(rewards), max(1, group_size))]
    out["grpo/zero_signal_group_frac"] = sum(1 for g in groups if max(g) == min(g)) / max(1, len(groups))
    if elapsed_s:
        out["rollout/episodes_per_s"] = len(episodes) / max(elapsed_s, 1e-9)
    return out


def run_collect(ctx: TrainContext) -> dict[str, Any]:
    """The ``collect`` learner: roll out groups, write trajectories and metrics, no weight updates."""
    from tqdm import tqdm

    cfg = ctx.cfg
    policy = make_policy(cfg.policy, ctx.adapter)
    ctx.metrics["policy"] = policy.describe()
    tasks = ctx.train_tasks()
    order = random.Random(cfg.experiment.seed + 1)
    g = int(cfg.learner.group_size)
    bar = tqdm(range(cfg.learner.max_steps), desc="collect", disable=not cfg.logger.progress)
    thr = Throughput()
    suite = suite_configured(cfg)
    try:
        if suite:
            run_suite_eval(ctx, 0)
        for step in bar:
            ctx.apply_schedules(step)
            chosen = [order.choice(tasks) for _ in range(cfg.learner.groups_per_step)]
            batch = [t for t in chosen for _ in range(g)]  # one group = one task and seed
            t0 = time.monotonic()
            eps = ctx.runtime.run(
                run_episodes(
                    ctx.runtime,
                    policy,
                    ctx.adapter,
                    batch,
                    system_prompt=cfg.policy.system_prompt,
                    max_turns=cfg.env.max_turns,
                    phase="train",
                )
            )
            for i, e in enumerate(eps):
                e.step, e.group = step, i // g
            ctx.logger.episodes(eps)
            ctx.logger.reward_breakdown(eps, step, str(cfg.env.id))
            scalars = step_metrics(eps, g, time.monotonic() - t0)
            thr.rate(len(eps))
            ctx.logger.scalars(scalars, step)
            bar.set_postfix(reward=f"{scalars['reward/mean']:.3f}")
            ctx.metrics["steps"] = step + 1
            if suite and due_during_training(cfg, step + 1):
                run_suite_eval(ctx, step + 1)
        if suite:
            run_suite_eval(ctx, int(cfg.learner.max_steps))
    finally:
        policy.close()
    ctx.metrics["last"] = dict(ctx.logger.last)
    return ctx.metrics


def run_train(cfg: DictConfig) -> dict[str, Any]:
    """Run ``mode=train`` with a composed config; returns the final metrics (also in ``run.json``)."""
    schedules = make_schedules(OmegaConf.to_container(cfg.schedule.targets, resolve=True) or {})  # type: ignore[arg-type]
    if str(getattr(cfg.learner.kind, "value", cfg.learner.kind)) == "grpo":
        from .grpo import check_config

        check_config(cfg)
    if suite_configured(cfg):
        check_suite(cfg)
    with graceful_shutdown():
        return _run(cfg, schedules)


def _run(cfg: DictConfig, schedules: dict[str, Schedule]) -> dict[str, Any]:
    """The run itself: record, servers, learner; the record and servers are closed however it ends."""
    run_dir = run_dir_of(cfg)
    record = RunRecord(
        name=cfg.experiment.name,
        mode="train",
        env=cfg.env.id,
        config=OmegaConf.to_container(cfg, resolve=True, enum_to_str=True),  # type: ignore[arg-type]
        versions=package_versions(),
    )
    record.write(run_dir)
    _seed_everything(int(cfg.experiment.seed))
    logger = RunLogger(run_dir, tensorboard=cfg.logger.tensorboard, episodes=cfg.logger.episodes)
    t0 = time.monotonic()
    ctx: TrainContext | None = None
    try:
        with EnvRuntime(cfg.runtime, cfg.env.id, env_kwargs_of(cfg), cfg.server) as rt:
            record.servers = rt.urls
            record.write(run_dir)  # a run that dies later still names its servers
            initial = config_update(cfg.rubric)
            if initial:
                rt.push_config(initial)
            adapter = adapter_for(cfg.env.id, cfg.env.action_field, rt.schema().get("action"))
            ctx = TrainContext(cfg, rt, adapter, logger, schedules, run_dir)
            kind = str(getattr(cfg.learner.kind, "value", cfg.learner.kind))
            if kind == "collect":
                run_collect(ctx)
            else:
                from .grpo import run_grpo

                run_grpo(ctx)
        record.status = "finished"
    except KeyboardInterrupt:
        record.status = "interrupted"
        raise
    except BaseException as exc:
        record.status, record.error = "failed", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        logger.close()
        record.finished_at = time.time()
        record.wall_time_s = time.monotonic() - t0
        if ctx is not None:
            record.steps = int(ctx.metrics.get("steps", 0))
            record.metrics = {k: v for k, v in ctx.metrics.items() if k != "policy"}
            record.metrics["schedule_pushes"] = ctx.pushed
            record.policy = dict(ctx.metrics.get("policy", {}))
        record.write(run_dir)
    return record.metrics


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:  # collect with a scripted/openai policy needs no torch
        pass

"""``mode=train``: env servers up, multi-turn rollouts -> env rewards -> learner step, schedules pushed each step.

:func:`run_train` is the pure function behind the CLI. It validates the schedules (and the learner's
settings, and the eval suite) before anything starts, starts the env servers through the configured provider
(stopped again on exit, Ctrl-C included), pushes the rubric's overrides, then runs the learner
(:mod:`.collect` or :mod:`.grpo`). Before each learner step the schedules are evaluated and pushed with
``POST /config`` to every server; the values, the servers' effective weights and ``config_version`` go to
TensorBoard. With ``eval.num_tasks > 0`` greedy held-out evals run before and after training (and every
``eval.every_n_steps``); with ``eval.suite`` set, so does that suite (:mod:`.suite_eval`).

The config is converted once (``OmegaConf.to_object``) into the typed :class:`~openenv_harness.config.Config`
that learners read (``ctx.conf``); the DictConfig stays for the eval suite, which composes its own.
"""

from __future__ import annotations

import contextlib
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from omegaconf import DictConfig, OmegaConf

from ..config import Config, ConfigError, LearnerKind, check_run_config, redact
from ..config._launch import apply_launch
from ..rollout import (
    EnvAdapter,
    EnvRuntime,
    Policy,
    Task,
    adapter_for,
    first_observations,
    run_episodes,
    tools_of,
)
from ..rollout import summarize as summarize_episodes
from ..rubric import config_update
from .interrupts import graceful_shutdown
from .mixture import EnvSlot, env_slots
from .plan import GroupPlanner, curriculum_on, normalize_method, task_pool
from .records import RunLogger, RunRecord, package_versions
from .resume import ResumePoint
from .schedules import Schedule, evaluate_targets, make_schedules, nest
from .suite_eval import check_suite, suite_configured
from .tasks import env_kwargs_of, heldout_tasks, train_tasks


def run_dir_of(cfg: DictConfig) -> Path:
    """The Hydra run dir (job dir in a multirun), or ``outputs/manual/<time>`` outside Hydra."""
    try:
        from hydra.core.hydra_config import HydraConfig

        out = Path(HydraConfig.get().runtime.output_dir)
    except ValueError:  # not inside a Hydra job (called from Python)
        out = Path("outputs") / "manual" / time.strftime("%Y-%m-%d_%H-%M-%S")
    out.mkdir(parents=True, exist_ok=True)
    return out


def typed(cfg: DictConfig) -> Config:
    """The composed config as the typed :class:`~openenv_harness.config.Config` (converted once)."""
    return cast(Config, OmegaConf.to_object(cfg))


@dataclass
class TrainContext:
    """What a learner needs: config (raw and typed), servers, adapter, outputs, schedules.

    ``runtime``/``adapter``/``schedules`` are the first env's; ``slots`` holds every env of the run (one for
    a single-env run), each with its own runtime, adapter and schedules (:mod:`.mixture`).
    """

    cfg: DictConfig
    runtime: EnvRuntime
    adapter: EnvAdapter
    logger: RunLogger
    schedules: dict[str, Schedule]
    run_dir: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    pushed: list[dict[str, Any]] = field(default_factory=list)
    slots: list[EnvSlot] = field(default_factory=list)
    resume: ResumePoint | None = None
    """The checkpoint this run continues from (None: a fresh run)."""
    conf: Config = field(init=False)
    _planner: GroupPlanner | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.conf = typed(self.cfg)
        if not self.slots:  # built by hand (tests): the one env of the config
            slot = EnvSlot(self.conf.env.id, 1.0, self.cfg, self.conf, self.schedules)
            slot.runtime, slot.adapter = self.runtime, self.adapter
            self.slots = [slot]

    @property
    def mixed(self) -> bool:
        """Whether the run trains on more than one env."""
        return len(self.slots) > 1

    def planner(self) -> GroupPlanner:
        """The run's :class:`~.plan.GroupPlanner` (built on first use: task pools are drawn then)."""
        if self._planner is None:
            self._planner = GroupPlanner(
                [s.name for s in self.slots],
                [s.weight for s in self.slots],
                [task_pool(s.conf) for s in self.slots],
                [curriculum_on(s.conf) for s in self.slots],
                self.conf.experiment.seed,
                normalize_method(self.conf, len(self.slots)),
            )
        return self._planner

    def train_tasks(self) -> list[Task]:
        """The training task pool (see :func:`.tasks.train_tasks`)."""
        return train_tasks(self.conf)

    def heldout_tasks(self, seen_prompts: set[str]) -> list[Task]:
        """Held-out eval tasks whose prompts never occur in training (see :func:`.tasks.heldout_tasks`)."""
        return heldout_tasks(self.conf, self.runtime, self.adapter, seen_prompts)

    def apply_schedules(self, step: int) -> dict[str, float]:
        """Evaluate each env's schedules at ``step``, push them to that env's servers, log values and config.

        Tags are ``schedule/<path>`` and ``config/<path>`` (``schedule/<env>/<path>`` in a mixture).
        """
        if step % max(1, self.conf.schedule.push_every) != 0:
            return {}
        out: dict[str, float] = {}
        for slot in self.slots:
            if not slot.schedules:
                continue
            values = evaluate_targets(slot.schedules, step)
            snaps = slot.rt.push_config(nest(values))
            slot.pushed = dict(values)
            entry = {"step": step, "values": values, "versions": [s.get("config_version") for s in snaps]}
            prefix = ""
            if self.mixed:
                entry["env"], prefix = slot.name, f"{slot.name}/"
            self.pushed.append(entry)
            scalars = {f"schedule/{prefix}{path}": v for path, v in values.items()}
            if snaps:
                effective = snaps[0].get("config", {})
                for path in values:
                    node: Any = effective
                    for part in path.split("."):
                        node = node.get(part) if isinstance(node, dict) else None
                    if isinstance(node, int | float):
                        scalars[f"config/{prefix}{path}"] = float(node)
                scalars[f"config/{prefix}version"] = float(snaps[0].get("config_version", 0))
            self.logger.scalars(scalars, step)
            out.update({f"{prefix}{k}": v for k, v in values.items()})
        return out

    def evaluate(self, policy: Policy, tasks: list[Task], step: int, phase: str) -> dict[str, float]:
        """Greedy (``eval.temperature``) multi-turn episodes on ``tasks``; metrics logged under ``eval/``.

        ``eval/success`` is success within ``env.max_turns``; ``eval/first_turn_success`` what the first turn
        alone achieved (their gap is what later turns add).
        """
        if not tasks:
            return {}
        eps = self.runtime.run(
            run_episodes(
                self.runtime,
                policy,
                self.adapter,
                tasks,
                system_prompt=self.conf.policy.system_prompt,
                max_turns=self.conf.env.max_turns,
                temperature=self.conf.eval.temperature,
                phase=phase,
            )
        )
        for e in eps:
            e.step = step
        self.logger.episodes(eps)
        summary = summarize_episodes(eps, self.adapter.success_component)
        self.logger.scalars({f"eval/{k}": v for k, v in summary.items()}, step)
        self.metrics[f"eval_{phase}"] = summary
        return summary

    def first_prompts(self, tasks: list[Task]) -> list[dict[str, Any]]:
        """Each task's first observation (one reset per task, concurrently over the pool)."""
        return self.runtime.run(first_observations(self.runtime, tasks))


def run_train(cfg: DictConfig, policy: Policy | None = None) -> dict[str, Any]:
    """Run ``mode=train`` with a composed config; returns the final metrics (also in ``run.json``).

    Args:
        cfg: The composed config.
        policy: ``learner=collect`` only: act with this policy instead of building ``policy.kind``'s
            (notebooks and tests that bring their own).
    """
    try:  # every mistake found here is one line naming the key (ConfigError), before anything starts
        if not cfg.get("mixture"):  # the taskset's target (cli did it too: idempotent), trust, secrets
            apply_launch(cfg, explicit_env=True)
        schedules = make_schedules(OmegaConf.to_container(cfg.schedule.targets, resolve=True) or {})  # type: ignore[arg-type]
        conf = typed(cfg)
        slots = env_slots(cfg, schedules)  # every env's groups and schedules checked before anything starts
        for slot in slots:  # env kwargs, reward weights and schedule targets against the env itself
            where = f"mixture {slot.name}: " if len(slots) > 1 else ""
            if where and apply_launch(slot.cfg, explicit_env=True, where=where):
                slot.conf = typed(slot.cfg)
            check_run_config(slot.cfg, where)
        if conf.learner.kind == LearnerKind.grpo:
            from .grpo import check_config

            for slot in slots:
                check_config(slot.conf)
        if suite_configured(cfg):
            check_suite(cfg)
    except ConfigError:
        raise
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    with graceful_shutdown():
        return _run(cfg, conf, slots, policy)


def _run(cfg: DictConfig, conf: Config, slots: list[EnvSlot], policy: Policy | None) -> dict[str, Any]:
    """The run itself: record, servers, learner; the record and servers are closed however it ends."""
    from .resume import prepare_resume

    run_dir = run_dir_of(cfg)
    record = RunRecord(
        name=conf.experiment.name,
        mode="train",
        env="+".join(s.name for s in slots),
        config=redact(cfg),  # tokens written as ***
        versions=package_versions(),
    )
    record.write(run_dir)
    _seed_everything(conf.experiment.seed)
    # Before the logger opens its files: a resumed run cuts them back to its checkpoint.
    resume = prepare_resume(run_dir, conf)
    logger = RunLogger(run_dir, tensorboard=conf.logger.tensorboard, episodes=conf.logger.episodes)
    t0 = time.monotonic()
    ctx: TrainContext | None = None
    try:
        with contextlib.ExitStack() as stack:
            for slot in slots:
                sc = slot.conf
                slot.runtime = stack.enter_context(
                    EnvRuntime(slot.cfg.runtime, sc.env.id, env_kwargs_of(sc), cfg.server)
                )
                record.servers.extend(slot.runtime.urls)
            rt = slots[0].rt
            if rt.remote:  # servers someone else runs: name them, and say whether seeds mean anything there
                record.environment = {
                    "id": conf.env.id,
                    "foreign": rt.foreign,
                    "servers": [s.identity() for s in rt.servers],
                    "seeds": rt.check_seeds(conf.experiment.seed, dict(conf.env.reset_kwargs)),
                }
            targets = {s.name: _target(s.cfg) for s in slots if s.cfg.runtime.get("target")}
            if targets:  # what each taskset launched (kind, image/package/URL, limits, secret names, hash)
                record.environment = {**record.environment, "targets": targets}
            record.write(run_dir)  # a run that dies later still names its servers
            for slot in slots:
                initial = config_update(slot.cfg.rubric)
                if initial:
                    slot.rt.push_config(initial)
                sc = slot.conf
                slot.adapter = adapter_for(
                    sc.env.id,
                    sc.env.action_field,
                    slot.rt.schema().get("action"),
                    tools=lambda: tools_of(sc.env.id, slot.rt.urls, slot.rt.cfg.token),  # noqa: B023 - called now
                )
            ctx = TrainContext(
                cfg, rt, slots[0].ad, logger, slots[0].schedules, run_dir, slots=slots, resume=resume
            )
            if conf.learner.kind == LearnerKind.collect:
                from .collect import run_collect

                run_collect(ctx, policy)
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
            # Env servers restarted after a crash (local provider); their in-flight episodes are errors.
            record.metrics["server_restarts"] = sum(
                int(getattr(s.rt.provider, "restarts", 0)) for s in ctx.slots
            )
            record.policy = dict(ctx.metrics.get("policy", {}))
        record.write(run_dir)
    _print_outcome(run_dir, record)
    return record.metrics


def _target(cfg: DictConfig) -> dict[str, Any]:
    """A taskset's runtime target as run records keep it (no action schema)."""
    target = dict(OmegaConf.to_container(cfg.runtime.target, resolve=True) or {})  # type: ignore[arg-type]
    target.pop("action_schema", None)
    return target


def _print_outcome(run_dir: Path, record: RunRecord) -> None:
    """Where the outputs are and the first/last reward, so a user sees the result without opening files."""
    m = record.metrics
    first, last = m.get("first_reward"), m.get("last", {}).get("reward/mean")
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    print(
        f"train finished: {record.steps} steps in {record.wall_time_s or 0:.0f} s; reward/mean first "
        f"{fmt(first)} -> last {fmt(last)}; outputs in {run_dir} (tb/, episodes.jsonl, run.json)",
        flush=True,
    )


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:  # collect with a scripted/openai policy needs no torch
        pass

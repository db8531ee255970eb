"""Env mixtures: one run trains on several envs (each with its taskset, rubric, schedule and servers).

``mixture: [{env: echo, weight: 1}, {env: arith, weight: 3, schedule: arith}]`` lists the envs of a run;
each entry's ``env``/``taskset``/``rubric``/``schedule`` is a file of that config group (by name) or the
group's fields inline. An empty ``mixture`` (the default) is the single env of the ``env`` group, exactly as
before. :func:`env_slots` turns the config into one :class:`EnvSlot` per env, each with its own typed config
(the run's config with that entry's groups in place), so everything that reads ``conf.env``/``conf.taskset``
(task pools, env constructor arguments, adapters) works per env unchanged. Every slot gets its own
:class:`~openenv_harness.rollout.EnvRuntime` (servers + session pool): ``POST /config`` pushes of its rubric
and schedules reach its servers only.

:func:`run_groups` rolls a batch of groups out over the slots (each slot's episodes on its own runtime, one
slot after the other, because each runtime owns its event loop) and returns the episodes in batch order,
each tagged with its slot's name in ``Episode.env``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from omegaconf import DictConfig, OmegaConf

from ..config import (
    Config,
    EnvConfig,
    RubricConfig,
    ScheduleConfig,
    TasksetConfig,
)
from ..config._compose import CONF_DIR
from ..rollout import EngineStats, EnvAdapter, EnvRuntime, Episode, Policy, Task, run_episodes
from .schedules import Schedule, make_schedules

_GROUPS: dict[str, type] = {
    "env": EnvConfig,
    "taskset": TasksetConfig,
    "rubric": RubricConfig,
    "schedule": ScheduleConfig,
}


@dataclass
class EnvSlot:
    """One env of a run: its config, weight, schedules and (once started) runtime and adapter."""

    name: str
    weight: float
    cfg: DictConfig
    conf: Config
    schedules: dict[str, Schedule]
    runtime: EnvRuntime | None = None
    adapter: EnvAdapter | None = None
    pushed: dict[str, Any] = field(default_factory=dict)
    """The last schedule values pushed (dotted path -> value), for logs and resume."""

    @property
    def rt(self) -> EnvRuntime:
        """The started runtime (raises before the run starts it)."""
        if self.runtime is None:
            raise RuntimeError(f"env {self.name!r} has no runtime yet")
        return self.runtime

    @property
    def ad(self) -> EnvAdapter:
        """The env's adapter (raises before the run resolves it)."""
        if self.adapter is None:
            raise RuntimeError(f"env {self.name!r} has no adapter yet")
        return self.adapter


def _group_node(group: str, value: Any) -> Any:
    """A group's node from a name (``conf/<group>/<name>.yaml``) or inline fields, merged on its schema."""
    schema = OmegaConf.structured(_GROUPS[group])
    if value is None:
        return schema
    if isinstance(value, str):
        path = CONF_DIR / group / f"{value}.yaml"
        if not path.is_file():
            known = sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))
            raise ValueError(f"mixture: no {group} named {value!r}; choose one of {', '.join(known)}")
        loaded = OmegaConf.load(path)
        if isinstance(loaded, DictConfig) and "defaults" in loaded:
            loaded.pop("defaults")
        return OmegaConf.merge(schema, loaded)
    return OmegaConf.merge(schema, value)


def mixture_configs(cfg: DictConfig) -> list[tuple[str, float, DictConfig]]:
    """``(name, weight, config)`` of every env of the run (the run's own env when there is no mixture).

    Raises:
        ValueError: naming the entry (unknown group file, weight <= 0, duplicate name).
    """
    entries = list(cfg.get("mixture") or [])
    if not entries:
        return [(str(cfg.env.id), 1.0, cfg)]
    out: list[tuple[str, float, DictConfig]] = []
    for i, entry in enumerate(entries):
        sub = copy.deepcopy(cfg)
        sub.mixture = []
        for group in _GROUPS:
            value = entry.get(group)
            if group == "env" and value is None:
                continue  # the run's own env
            if isinstance(value, DictConfig):
                value = OmegaConf.to_container(value)
            try:
                sub[group] = _group_node(group, value)
            except ValueError as exc:
                raise ValueError(f"mixture[{i}].{group}: {exc}") from exc
        weight = float(entry.get("weight", 1.0))
        if weight <= 0:
            raise ValueError(f"mixture[{i}].weight: must be > 0, got {weight}")
        name = str(entry.get("name") or sub.env.id)
        if any(name == n for n, _, _ in out):
            raise ValueError(f"mixture[{i}]: two envs named {name!r}; give one a distinct `name`")
        out.append((name, weight, sub))
    return out


def env_slots(cfg: DictConfig, schedules: dict[str, Schedule] | None = None) -> list[EnvSlot]:
    """One :class:`EnvSlot` per env of the run, schedules validated (not started yet).

    Args:
        cfg: The composed run config.
        schedules: The run's own schedules (used for a single-env run, already validated).
    """
    slots = []
    single = not cfg.get("mixture")
    for name, weight, sub in mixture_configs(cfg):
        if single and schedules is not None:
            scheds = schedules
        else:
            targets = OmegaConf.to_container(sub.schedule.targets, resolve=True) or {}
            scheds = make_schedules(cast(dict[str, Any], targets))
        conf = cast(Config, OmegaConf.to_object(sub))
        slots.append(EnvSlot(name, weight, sub, conf, scheds))
    return slots


def run_groups(
    slots: Sequence[EnvSlot],
    groups: Sequence[tuple[int, Task]],
    group_size: int,
    policies: Sequence[Policy],
    *,
    phase: str = "train",
    temperature: float | None = None,
    trace: bool = False,
    stats: EngineStats | None = None,
) -> list[Episode]:
    """Run ``group_size`` episodes of each ``(slot index, task)`` group; episodes in batch order.

    Args:
        slots: The run's envs (started).
        groups: Each group's slot and task.
        group_size: Episodes per group (one task and seed each).
        policies: One policy per slot (a scripted policy is bound to its env's adapter; a model is shared).
        phase: Recorded on each episode.
        temperature: Sampling temperature (None: the policy's own).
        trace: Record token traces (GRPO).
        stats: Accumulates generation/env time.
    """
    out: list[Episode | None] = [None] * (len(groups) * group_size)
    for s, slot in enumerate(slots):
        mine = [j for j, (si, _) in enumerate(groups) if si == s]
        if not mine:
            continue
        tasks = [groups[j][1] for j in mine for _ in range(group_size)]
        eps = slot.rt.run(
            run_episodes(
                slot.rt,
                policies[s],
                slot.ad,
                tasks,
                system_prompt=slot.conf.policy.system_prompt,
                max_turns=slot.conf.env.max_turns,
                temperature=temperature,
                phase=phase,
                trace=trace,
                stats=stats,
            )
        )
        for k, e in enumerate(eps):
            e.env = slot.name
            out[mine[k // group_size] * group_size + k % group_size] = e
    return [e for e in out if e is not None]

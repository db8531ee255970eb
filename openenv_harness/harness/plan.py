"""Which env and task each GRPO group gets, and what the run learns from each group's rewards.

:class:`GroupPlanner` draws every step's groups at rollout time, after the previous step's rewards are in:

* **env by weight**: smooth weighted round-robin over the mixture (deterministic; over any window each env's
  share of groups is within one group of ``weight / sum(weights)``);
* **task by the env's sampler** over its task pool: uniform without replacement per epoch, or, with
  ``learner.curriculum=true`` (or ``taskset.sampler=curriculum``), a
  :class:`~openenv_harness.tasks.CurriculumSampler` over the pool (the taskset's whole train split, or the
  env's own ``learner.num_tasks`` seeds);
* after the rollouts, :meth:`GroupPlanner.feed` gives every group's rewards to its env's curriculum sampler
  (a group whose rewards are all equal carries no signal: its task is drawn less; tasks at the frontier are
  drawn more) and normalises rewards per env with a
  :class:`~openenv_harness.rubric.RewardNormalizer` (``learner.normalize``; ``auto`` = ``running`` for a
  mixture, off for one env), which GRPO's advantages are then computed from.

Why at rollout time and not through TRL's dataset: TRL's ``RepeatSampler`` permutes the dataset up front and
the dataloader fetches a batch ahead, so a sampler fed after step *k* could steer step *k+2* at best. A
single-env run without a curriculum keeps following TRL's rows (``draw(rows=...)``), as before.

Everything is checkpointable (:meth:`GroupPlanner.state_dict`).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from ..config import Config
from ..rollout import Episode, Task
from ..rubric import RewardNormalizer
from ..tasks import CurriculumSampler, Sampler, UniformSampler, derive_seed
from .tasks import taskset_ref, taskset_sampler, train_tasks


def curriculum_on(conf: Config) -> bool:
    """Whether the env's tasks are drawn by a curriculum fed with rewards."""
    return bool(conf.learner.curriculum) or bool(taskset_ref(conf) and conf.taskset.sampler == "curriculum")


def task_pool(conf: Config) -> list[Task]:
    """The tasks an env's sampler draws from.

    With a curriculum over a taskset, every row of ``taskset.split`` (up to ``taskset.limit``), each with a
    fixed seed; otherwise the training pool of :func:`.tasks.train_tasks`.
    """
    if taskset_ref(conf) and curriculum_on(conf):
        rows = taskset_sampler(conf, evaluation=False).num_rows
        base, split = dict(conf.env.reset_kwargs), str(conf.taskset.split)
        seed = int(conf.taskset.seed)
        return [
            Task(derive_seed("episode", seed, i), {**base, "split": split, "index": i}) for i in range(rows)
        ]
    return train_tasks(conf)


def normalize_method(conf: Config, num_envs: int) -> str:
    """``learner.normalize`` with ``auto`` resolved (``running`` for a mixture, ``none`` for one env)."""
    method = str(conf.learner.normalize)
    if method == "auto":
        return "running" if num_envs > 1 else "none"
    if method not in ("none", "running", "minmax", "percentile"):
        raise ValueError(f"learner.normalize: one of auto, none, running, minmax, percentile; got {method!r}")
    return method


class GroupPlanner:
    """Draws groups (env, task) and feeds their rewards back (curriculum, per-env normalisation).

    Args:
        names: Env names (slot order).
        weights: Mixture weights (> 0).
        pools: Each env's task pool.
        curriculum: Per env, whether its sampler is a fed curriculum.
        seed: Seed of the samplers.
        normalize: ``none``, ``running``, ``minmax`` or ``percentile``.
    """

    def __init__(
        self,
        names: Sequence[str],
        weights: Sequence[float],
        pools: Sequence[list[Task]],
        curriculum: Sequence[bool],
        seed: int,
        normalize: str = "none",
    ) -> None:
        if not pools or any(not p for p in pools):
            raise ValueError("every env of the run needs at least one training task")
        self.names, self.weights, self.pools = list(names), [float(w) for w in weights], list(pools)
        self.curriculum = list(curriculum)
        self.samplers: list[Sampler] = [
            (CurriculumSampler if cur else UniformSampler)(len(pool), "pool", derive_seed("pool", seed, name))
            for name, pool, cur in zip(self.names, self.pools, self.curriculum, strict=True)
        ]
        self.normalizer = None if normalize == "none" else RewardNormalizer(normalize)  # type: ignore[arg-type]
        self._current = [0.0] * len(self.names)  # smooth weighted round-robin credit
        self.groups_drawn = [0] * len(self.names)
        self.last: list[tuple[int, int]] = []  # (slot, pool index) of each group of the last draw

    def draw(self, n: int, rows: Sequence[int] | None = None) -> list[tuple[int, Task]]:
        """The next ``n`` groups' ``(slot index, task)``.

        Args:
            n: Groups.
            rows: TRL's dataset rows for these groups; followed in a single-env run without a curriculum.
        """
        follow = rows is not None and len(self.names) == 1 and not self.curriculum[0]
        picks: list[tuple[int, int]] = []
        for j in range(n):
            s = self._next_env()
            if follow and rows is not None:
                picks.append((0, int(rows[j]) % len(self.pools[0])))
            else:
                picks.append((s, next(self.samplers[s]).index))
            self.groups_drawn[s] += 1
        self.last = picks
        return [(s, self.pools[s][i]) for s, i in picks]

    def _next_env(self) -> int:
        if len(self.names) == 1:
            return 0
        total = sum(self.weights)
        for i, w in enumerate(self.weights):
            self._current[i] += w
        best = max(range(len(self._current)), key=lambda i: self._current[i])
        self._current[best] -= total
        return best

    def feed(self, episodes: Sequence[Episode], group_size: int) -> list[float | None]:
        """Give the last draw's groups their rewards; returns each episode's (normalised) reward.

        Errored episodes (reward None) stay None and are left out of the curriculum and the statistics.
        """
        g = max(1, group_size)
        for k, (s, idx) in enumerate(self.last):
            rewards = [float(e.reward) for e in episodes[k * g : (k + 1) * g] if e.reward is not None]
            sampler = self.samplers[s]
            if rewards and isinstance(sampler, CurriculumSampler):
                sampler.update(idx, rewards)
        out: list[float | None] = [None if e.reward is None else float(e.reward) for e in episodes]
        if self.normalizer is None:
            return out
        for s, name in enumerate(self.names):
            mine = [i for i in range(len(episodes)) if self.last[i // g][0] == s]
            if mine:
                normed = self.normalizer(name, [out[i] for i in mine])
                for i, v in zip(mine, normed, strict=True):
                    out[i] = v
        return out

    def scalars(
        self, episodes: Sequence[Episode], normed: Sequence[float | None], g: int
    ) -> dict[str, float]:
        """Per-env raw and normalised reward means, groups drawn, curriculum state (for TensorBoard)."""
        out: dict[str, float] = {}
        multi = len(self.names) > 1 or self.normalizer is not None
        for s, name in enumerate(self.names):
            idx = [i for i in range(len(episodes)) if self.last[i // max(1, g)][0] == s]
            raw = [float(episodes[i].reward) for i in idx if episodes[i].reward is not None]  # type: ignore[arg-type]
            nrm = [float(v) for i in idx if (v := normed[i]) is not None]
            if multi:
                out[f"mixture/{name}/groups_drawn"] = float(self.groups_drawn[s])
                for tag, vals in (("raw", raw), ("norm", nrm)):
                    if vals:
                        out[f"mixture/{name}/reward_{tag}"] = statistics.fmean(vals)
                        out[f"mixture/{name}/reward_{tag}_std"] = statistics.pstdev(vals)
            sampler = self.samplers[s]
            if isinstance(sampler, CurriculumSampler):
                c = sampler.counters()
                for key in ("zero_signal_fraction", "rows_seen", "rows_with_signal", "groups"):
                    out[f"curriculum/{name}/{key}"] = float(c[key])
                weights = [sampler.weight(i) for i in range(sampler.num_rows)]
                out[f"curriculum/{name}/weight_min"] = min(weights)
                out[f"curriculum/{name}/weight_max"] = max(weights)
        return out

    def state_dict(self) -> dict[str, Any]:
        """JSON-able state: samplers, round-robin credit, counts, normaliser."""
        return {
            "names": self.names,
            "samplers": [s.state_dict() for s in self.samplers],
            "current": self._current,
            "groups_drawn": self.groups_drawn,
            "normalizer": None if self.normalizer is None else self.normalizer.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` of a planner built from the same config.

        Raises:
            ValueError: the state belongs to another set of envs.
        """
        if list(state["names"]) != self.names:
            raise ValueError(f"checkpoint is of envs {state['names']}, this run has {self.names}")
        for sampler, st in zip(self.samplers, state["samplers"], strict=True):
            sampler.load_state_dict(st)
        self._current = [float(x) for x in state["current"]]
        self.groups_drawn = [int(x) for x in state["groups_drawn"]]
        if self.normalizer is not None and state.get("normalizer"):
            self.normalizer.load_state_dict(state["normalizer"])

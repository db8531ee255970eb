"""Which tasks a training run uses: the train pool, held-out eval tasks, and the env's constructor arguments.

Train seeds are drawn in ``[0, 1e6)`` and held-out seeds in ``[1e6, 2e6)``, disjoint by construction; with a
taskset (``taskset.ref``) its sampler draws rows of ``taskset.split`` for training and walks
``taskset.eval_split`` in order for held-out evals, each row bound at reset with ``split``/``index``.
"""

from __future__ import annotations

import inspect
import random
from typing import Any

from ..config import Config
from ..rollout import EnvAdapter, EnvRuntime, Task, first_observations

TRAIN_SEED_SPACE = 1_000_000
"""Train seeds lie in ``[0, TRAIN_SEED_SPACE)``, held-out seeds above."""


def taskset_ref(conf: Config) -> str | None:
    """The configured taskset reference, or None when the env generates its own tasks."""
    ts = conf.taskset
    return str(ts.ref) if ts is not None and getattr(ts, "ref", None) else None


def taskset_sampler(conf: Config, evaluation: bool) -> Any:
    """The taskset's sampler over its train split (or, for evaluation, its eval split in order)."""
    from openenv_harness.tasks import resolve_shared, sampler_for

    resolved = resolve_shared(str(conf.taskset.ref))
    split = str(conf.taskset.eval_split if evaluation else conf.taskset.split)
    return sampler_for(conf.taskset, len(resolved.rows(split)), evaluation=evaluation)


def train_tasks(conf: Config) -> list[Task]:
    """The training task pool: ``learner.num_tasks`` tasks.

    With a taskset, the taskset's sampler (``taskset.sampler`` over ``taskset.split``) draws rows; otherwise
    ``learner.num_tasks`` seeds drawn from ``experiment.seed`` pick the env's own generated tasks.
    """
    base = dict(conf.env.reset_kwargs)
    if taskset_ref(conf):
        draws = taskset_sampler(conf, evaluation=False).take(conf.learner.num_tasks)
        return [Task(d.seed, {**base, "split": d.split, "index": d.index}) for d in draws]
    rng = random.Random(conf.experiment.seed)
    seeds = rng.sample(range(TRAIN_SEED_SPACE), conf.learner.num_tasks)
    return [Task(s, dict(base)) for s in seeds]


def heldout_tasks(
    conf: Config, runtime: EnvRuntime, adapter: EnvAdapter, seen_prompts: set[str]
) -> list[Task]:
    """``eval.num_tasks`` tasks whose prompts never occur in training (and are pairwise distinct).

    Seeds alone are not enough: small generators (e.g. one-digit sums) repeat questions across seeds, so
    candidates are drawn from ``eval.seed`` and filtered by their first observation's text.
    """
    n = conf.eval.num_tasks
    if n <= 0:
        return []
    if taskset_ref(conf):  # a held-out split: rows of taskset.eval_split, in order
        sampler = taskset_sampler(conf, evaluation=True)
        base = dict(conf.env.reset_kwargs)
        draws = sampler.take(min(n, len(sampler)))
        return [Task(d.seed, {**base, "split": d.split, "index": d.index}) for d in draws]
    rng = random.Random(conf.eval.seed)
    kwargs = {**dict(conf.env.reset_kwargs), **dict(conf.eval.reset_kwargs)}
    out: list[Task] = []
    seen = set(seen_prompts)
    for _ in range(4):  # a few rounds of candidates; small task spaces may run out
        cands = [Task(TRAIN_SEED_SPACE + rng.randrange(TRAIN_SEED_SPACE), kwargs) for _ in range(4 * n)]
        firsts = runtime.run(first_observations(runtime, cands))
        for task, obs in zip(cands, firsts, strict=True):
            text = adapter.render({k: v for k, v in obs.items() if not k.startswith("_")})
            if text not in seen:
                seen.add(text)
                out.append(task)
            if len(out) == n:
                return out
    return out


def env_kwargs_of(conf: Config) -> dict[str, Any]:
    """The env's constructor arguments, with ``taskset=<ref>`` when a taskset is configured.

    A ``rubric`` group with a ``_target_`` (``rubric=judge``) becomes the env argument ``rubric`` (the tree),
    which the env server installs in place of the env's own rubric (:mod:`openenv_harness.rubric._override`).

    The taskset is not passed to an ``image`` target (its own command serves; the image carries its rows) nor
    checked against an env this process does not import (a taskset's package, served from its own venv).

    Raises:
        ValueError: the env cannot bind a taskset (its constructor takes no ``taskset`` argument).
        openenv_harness.rubric.RubricError: the rubric tree cannot be built.
    """
    from openenv_harness.rubric import RUBRIC_KWARG, rubric_tree
    from openenv_harness.spec import spec

    kwargs: dict[str, Any] = dict(conf.env.kwargs)
    tree = rubric_tree(conf.rubric)
    if tree is not None:
        kwargs[RUBRIC_KWARG] = tree
    ref = taskset_ref(conf)
    if ref and conf.runtime.target.get("kind") != "docker":  # an image's own command takes no arguments
        try:
            cls = spec(conf.env.id).load()
        except KeyError:  # not imported here (a taskset's package venv): its server is the judge
            cls = None
        if cls is not None and "taskset" not in inspect.signature(cls.__init__).parameters:
            raise ValueError(
                f"env {conf.env.id!r} cannot bind a taskset (taskset.ref={ref}): its constructor has no taskset argument"
            )
        kwargs["taskset"] = ref  # also over a `taskset: null` of conf/env/*.yaml, which must not hide it
    return kwargs

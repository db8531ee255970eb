"""The ``taskset`` config group's schema (registered in Hydra's ConfigStore by the harness).

``conf/taskset/*.yaml`` only select and override these fields, e.g.::

    python -m openenv_harness env=arith taskset=arith taskset.split=train taskset.sampler=curriculum
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TasksetConfig:
    """Which taskset an environment binds its rows from, and how the harness draws tasks.

    Attributes:
        ref: Taskset reference: ``hf://datasets/ORG/NAME/ENV_ID@REVISION`` or a local folder
            (``tasksets/arith`` or ``path#env_id``); see :func:`openenv_harness.tasks.resolve`. None (the
            default, ``taskset: null``) means the environment generates its own tasks from the seed.
        split: Split training draws from.
        eval_split: Split evaluation runs over (every row once, in order).
        sampler: ``uniform`` (without replacement per epoch), ``sequential`` or ``curriculum``.
        seed: Seed of the sampler (and base seed of sequential eval seeds).
        limit: Use at most this many rows of each split (None = all).
        trust_remote_code: Allow a ``package`` runtime target other than ``openenv-harness`` itself, or an
            ``image`` not built by this project (both run code named by the dataset).
        space_url: Where a ``space_id`` target is served, instead of ``https://{owner}-{name}.hf.space``
            (e.g. the Space's image run locally).
    """

    ref: str | None = None
    split: str = "train"
    eval_split: str = "test"
    sampler: str = "uniform"
    seed: int = 0
    limit: int | None = None
    trust_remote_code: bool = False
    space_url: str | None = None

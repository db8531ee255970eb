"""What an eval suite is: a list of evals, each fully pinned so a bundle can re-run it elsewhere.

A suite is a plain dataclass tree (Hydra composes it from ``conf/eval/*.yaml``) and is written verbatim into
every bundle as ``suite.yaml``. Everything that can change a result lives here or in the bundle manifest:
environment and its constructor arguments, taskset reference at a pinned revision, split, reward config
(pushed to the env before the eval), samples per task, seeds, turn budget, sampling parameters.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class EvalSpec:
    """One eval of a suite.

    Attributes:
        name: Unique name inside the suite (used in results and episode keys).
        env: Registered environment id.
        env_kwargs: Constructor arguments of the environment.
        taskset: Taskset reference (``hf://datasets/...@rev`` or a local path), or None for envs that
            generate their own tasks from the seed.
        split: Split of the taskset to run.
        limit: Cap on the number of tasks (None = all).
        n_tasks: Number of tasks for envs without a taskset (tasks are seeds ``seed + i``).
        reward_config: Partial reward config pushed with ``POST /config`` before the eval (e.g. weights).
        n_samples: Samples per task (pass@k needs ``n_samples >= k``).
        seed: Base seed; task ``i`` runs with seed ``seed + i`` (every sample of a task uses the same seed).
        max_turns: Turn budget of one episode.
        sampling: Policy sampling parameters (temperature, max_new_tokens, top_p...).
        success_threshold: Reward (or ``success_component``) at or above which an episode is a success.
        success_component: Raw reward component that decides success (None: the weighted reward).
        pass_k: The k values to report pass@k for.
        tolerance: Allowed absolute drift per numeric result field when verifying (0 = exact).
        reset_kwargs: Extra arguments of every reset (``env.reset_kwargs`` + ``eval.reset_kwargs`` for the
            eval of the configured env); taskset ``split``/``index`` are added per task.
    """

    name: str = "default"
    env: str = "echo"
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    taskset: str | None = None
    split: str = "test"
    limit: int | None = None
    n_tasks: int = 10
    reward_config: dict[str, Any] = field(default_factory=dict)
    n_samples: int = 1
    seed: int = 0
    max_turns: int = 1
    sampling: dict[str, Any] = field(default_factory=lambda: {"temperature": 0.0, "max_new_tokens": 64})
    success_threshold: float = 1.0
    success_component: str | None = None
    pass_k: list[int] = field(default_factory=lambda: [1])
    tolerance: float = 0.0
    reset_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Suite:
    """A named list of evals."""

    name: str = "default"
    evals: list[EvalSpec] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Suite:
        """Build a suite from plain data (e.g. ``suite.yaml``), refusing unknown keys by name."""
        known = {f.name for f in dataclasses.fields(EvalSpec)}
        evals = []
        for i, raw in enumerate(data.get("evals") or []):
            unknown = sorted(set(raw) - known)
            if unknown:
                raise ValueError(f"suite eval #{i} ({raw.get('name', '?')}): unknown field(s) {unknown}")
            evals.append(EvalSpec(**raw))
        names = [e.name for e in evals]
        if len(set(names)) != len(names):
            raise ValueError(f"suite {data.get('name')!r}: eval names must be unique, got {names}")
        return cls(name=str(data.get("name", "default")), evals=evals)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (what ``suite.yaml`` holds).

        An empty ``reset_kwargs`` is left out, so suites written before the field existed keep their hash.
        """
        out = dataclasses.asdict(self)
        for ev in out["evals"]:
            if not ev.get("reset_kwargs"):
                ev.pop("reset_kwargs", None)
        return out


def stable_hash(obj: Any) -> str:
    """SHA-256 of the canonical JSON of ``obj`` (sorted keys), used for run identity and manifests."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()

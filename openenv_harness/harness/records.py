"""Run outputs: TensorBoard scalars, ``episodes.jsonl`` and the typed run record ``run.json``.

Everything goes to the run dir Hydra chose (``outputs/...``). Files are appended and flushed as the run
goes, so an interrupted run keeps what it has written; ``run.json`` is rewritten atomically at the start
(status ``running``) and at the end (``finished``/``failed``/``interrupted``).
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..rollout import Episode

RUN_RECORD_VERSION = 1


@dataclass
class RunRecord:
    """The typed record of one run (``run.json``).

    Attributes:
        version: Schema version of this record.
        name: ``experiment.name``.
        mode: The mode that ran.
        env: Environment id.
        status: ``running``, ``finished``, ``failed`` or ``interrupted``.
        started_at: Unix time.
        finished_at: Unix time (None while running).
        wall_time_s: Seconds from start to end.
        steps: Learner steps completed.
        config: The resolved config.
        metrics: Final metrics (last train step, eval before/after).
        policy: The policy's description.
        servers: Env server URLs used.
        environment: With remote servers: what each said about itself (``/metadata`` name, version,
            ``/config``), whether the env is foreign, and how it treats seeds (``seeds``: ``honoured``,
            ``ignored`` or ``not_reproducible``).
        error: Error message of a failed run.
        versions: Python and package versions.
    """

    version: int = RUN_RECORD_VERSION
    name: str = "default"
    mode: str = "train"
    env: str = ""
    status: str = "running"
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    wall_time_s: float | None = None
    steps: int = 0
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)
    servers: list[str] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    versions: dict[str, str] = field(default_factory=dict)

    def write(self, run_dir: Path) -> Path:
        """Atomically (re)write ``run.json``."""
        path = run_dir / "run.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, default=str))
        os.replace(tmp, path)
        return path

    @classmethod
    def read(cls, path: str | Path) -> RunRecord:
        """Load a ``run.json``."""
        return cls(**json.loads(Path(path).read_text()))


def package_versions() -> dict[str, str]:
    """Versions of the packages a run depends on (absent ones skipped)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("openenv-harness", "torch", "transformers", "trl", "peft", "hydra-core"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


class RunLogger:
    """TensorBoard + ``episodes.jsonl`` writer of one run.

    Args:
        run_dir: The run directory.
        tensorboard: Write scalars to ``run_dir/tb``.
        episodes: Write ``run_dir/episodes.jsonl``.
    """

    def __init__(self, run_dir: Path, tensorboard: bool = True, episodes: bool = True) -> None:
        self.run_dir = run_dir
        self.tb_dir = run_dir / "tb"
        self._writer: Any = None
        self._rewards: Any = None
        if tensorboard:
            from ..rubric import RewardLogger
            from .tb_events import ScalarEventWriter

            self._writer = ScalarEventWriter(self.tb_dir)
            # The rubric package's per-env breakdown (reward/<env>/component|weight/..., config_version)
            # shares our writer, so one event stream holds everything.
            self._rewards = RewardLogger(writer=self._writer)
        self._episodes = open(run_dir / "episodes.jsonl", "a") if episodes else None  # noqa: SIM115
        self.last: dict[str, float] = {}

    def scalars(self, values: dict[str, float], step: int) -> None:
        """Log scalars at ``step`` (tags as given, e.g. ``reward/mean``)."""
        for tag, value in values.items():
            if value is None:
                continue
            self.last[tag] = float(value)
            if self._writer is not None:
                self._writer.add_scalar(tag, float(value), step)
        if self._writer is not None:
            self._writer.flush()

    def reward_breakdown(self, episodes: list[Episode], step: int, env: str) -> None:
        """Log per-env reward components, weights and config version of the episodes' turns."""
        if self._rewards is None:
            return
        items = [
            {
                "reward_components": t.components,
                "reward_weights": t.weights,
                "config_version": t.config_version,
            }
            for e in episodes
            for t in e.turns
        ]
        if items:
            self._rewards.log(step, items, env=env)

    def episodes(self, episodes: list[Episode], env_versions: Mapping[str, str | None] | None = None) -> None:
        """Append episodes to ``episodes.jsonl`` (one JSON object per line, flushed).

        Args:
            episodes: The episodes.
            env_versions: Version of the env each episode ran on, by its ``env`` name: recorded as
                ``env_version``.
        """
        if self._episodes is None:
            return
        for ep in episodes:
            record = ep.to_json()
            if env_versions is not None:
                record["env_version"] = env_versions.get(ep.env or "")
            self._episodes.write(json.dumps(record, default=str) + "\n")
        self._episodes.flush()

    def close(self) -> None:
        """Flush and close."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self._rewards = None
        if self._episodes is not None:
            self._episodes.close()
            self._episodes = None


def read_scalars(tb_dir: str | Path) -> dict[str, list[tuple[int, float]]]:
    """Read every scalar series back from TensorBoard event files (tag -> [(step, value)])."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out: dict[str, list[tuple[int, float]]] = {}
    for events in sorted(Path(tb_dir).rglob("events.out.tfevents.*")):
        acc = EventAccumulator(str(events), size_guidance={"scalars": 0})
        acc.Reload()
        for tag in acc.Tags().get("scalars", []):
            out.setdefault(tag, []).extend((e.step, e.value) for e in acc.Scalars(tag))
    return {k: sorted(v) for k, v in out.items()}

"""Resume after a crash: a killed GRPO run started again in the same run dir continues from its checkpoint.

With ``learner.checkpoint_every=N`` TRL's trainer saves ``<run dir>/trainer/checkpoint-<step>`` every N steps
(model or LoRA adapter, optimizer, LR scheduler, Python/NumPy/torch RNG states, step); the harness then
writes its own state into the same folder, last and atomically (``harness_state.json``), so a checkpoint
without it (the process died while saving) is never used. That state holds what TRL does not know: the
:class:`~.plan.GroupPlanner` (mixture round-robin, samplers and curriculum counters, reward normaliser), the
policy's sampling counter, each env's ``config_version`` and last schedule values, the run's metrics so far,
and how long ``episodes.jsonl`` and every TensorBoard event file were at that step.

A new process with ``learner.resume=true`` (the default) in a run dir that holds such a checkpoint
(:func:`prepare_resume`): cuts ``episodes.jsonl`` and the event files back to their recorded lengths and
deletes event files written after the checkpoint (so no step is logged twice and none goes missing), then
the learner restores the planner, replays ``POST /config`` on its fresh env servers until each reports the
saved ``config_version`` (servers are new processes and count from zero; versions in observations stay
monotonic across the crash), and lets TRL load the checkpoint (``trainer.train(resume_from_checkpoint=...)``).
Hydra names a fresh run dir after the time, so "the same command" means the same ``hydra.run.dir``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Config, LearnerKind
from ..rubric import config_update
from .schedules import nest

if TYPE_CHECKING:
    from .train import TrainContext

STATE_FILE = "harness_state.json"
_CKPT = re.compile(r"^checkpoint-(\d+)$")


@dataclass
class ResumePoint:
    """A checkpoint to continue from: TRL's folder, its step and the harness state saved in it."""

    checkpoint: Path
    step: int
    state: dict[str, Any]


def trainer_dir(run_dir: Path) -> Path:
    """Where TRL writes its checkpoints."""
    return run_dir / "trainer"


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint (one with the harness state) of a run dir, or None."""
    found = []
    root = trainer_dir(run_dir)
    if root.is_dir():
        for p in root.iterdir():
            m = _CKPT.match(p.name)
            if m and (p / STATE_FILE).is_file():
                found.append((int(m.group(1)), p))
    return max(found)[1] if found else None


def prepare_resume(run_dir: Path, conf: Config) -> ResumePoint | None:
    """Find the checkpoint to resume from and cut the run's logs back to it (None: start fresh)."""
    if conf.learner.kind != LearnerKind.grpo or not conf.learner.resume:
        return None
    ckpt = latest_checkpoint(run_dir)
    if ckpt is None:
        return None
    state = json.loads((ckpt / STATE_FILE).read_text())
    files = state["files"]
    episodes = run_dir / "episodes.jsonl"
    if episodes.exists():
        with open(episodes, "r+b") as f:
            f.truncate(int(files["episodes"]))
    tb = run_dir / "tb"
    if tb.is_dir():
        for ev in tb.glob("events.out.tfevents.*"):
            size = files["tb"].get(ev.name)
            if size is None:
                ev.unlink()  # written after the checkpoint: its steps run again
            else:
                with open(ev, "r+b") as f:
                    f.truncate(int(size))
    print(f"resuming from {ckpt} (step {state['step']})", flush=True)
    return ResumePoint(ckpt, int(state["step"]), state)


def _file_sizes(ctx: TrainContext) -> dict[str, Any]:
    ctx.logger.scalars({}, 0)  # writes any queued events, so the sizes below are whole records
    episodes = ctx.run_dir / "episodes.jsonl"
    tb = ctx.run_dir / "tb"
    return {
        "episodes": episodes.stat().st_size if episodes.exists() else 0,
        "tb": {p.name: p.stat().st_size for p in tb.glob("events.out.tfevents.*")} if tb.is_dir() else {},
    }


def save_state(ctx: TrainContext, checkpoint: Path, step: int, policy_calls: int) -> Path:
    """Write the harness state into TRL's checkpoint folder (atomically, after TRL's own files)."""
    versions = {}
    for slot in ctx.slots:
        snaps = slot.rt.get_config() if slot.rt.serves_config else []
        found = [int(s.get("config_version", 0)) for s in snaps]
        versions[slot.name] = max(found) if found else 0
    metrics = {k: v for k, v in ctx.metrics.items() if k != "policy"}
    state = {
        "step": step,
        "planner": ctx.planner().state_dict(),
        "policy_calls": policy_calls,
        "config_versions": versions,
        "schedule_values": {slot.name: slot.pushed for slot in ctx.slots},
        "pushed": ctx.pushed,
        "metrics": json.loads(json.dumps(metrics, default=str)),
        "files": _file_sizes(ctx),
    }
    path = checkpoint / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)
    return path


def restore_state(ctx: TrainContext, point: ResumePoint) -> int:
    """Restore planner, metrics and env config versions from ``point``; returns the policy's call counter."""
    state = point.state
    ctx.planner().load_state_dict(state["planner"])
    ctx.metrics.update(state["metrics"])
    ctx.pushed[:] = state["pushed"]
    for slot in ctx.slots:
        target = int(state["config_versions"].get(slot.name, 0))
        values = state["schedule_values"].get(slot.name) or {}
        slot.pushed = dict(values)
        if not target or not slot.rt.serves_config:
            continue
        update = _merge(config_update(slot.cfg.rubric) or {}, nest(values))
        current = min(int(s.get("config_version", 0)) for s in slot.rt.get_config())
        for _ in range(max(0, target - current)):
            slot.rt.push_config(update)
    return int(state.get("policy_calls", 0))


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out

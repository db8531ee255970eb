"""Reward-shaping schedules: values over the training step, pushed into env reward configs.

A schedule maps a learner step (0-based) to a float. ``schedule.targets`` maps a dotted path into an
environment's reward config (``weights.format``) to a :class:`~openenv_harness.config.ScheduleSpec`; at each
learner step :func:`evaluate_targets` gives the partial config update that ``POST /config`` sends to every env
server. Shapes follow the usual learning-rate schedulers (linear/cosine/step/exponential) so users know them.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class ScheduleError(ValueError):
    """A schedule spec is missing a field its kind needs, or has an invalid value."""


@dataclass(frozen=True)
class Schedule:
    """A validated schedule (see :class:`openenv_harness.config.ScheduleSpec` for the fields)."""

    kind: str
    value: float | None = None
    start: float | None = None
    end: float | None = None
    steps: int = 0
    warmup: int = 0
    gamma: float = 1.0
    step_size: int = 1
    milestones: tuple[int, ...] = ()
    points: tuple[tuple[float, float], ...] = field(default_factory=tuple)

    def __call__(self, step: int) -> float:
        """Value at learner ``step`` (0-based)."""
        t = max(0, step - self.warmup)
        if self.kind == "constant":
            return float(self.value)  # type: ignore[arg-type]
        if self.kind == "piecewise":
            return _piecewise(self.points, float(step))
        start = float(self.start)  # type: ignore[arg-type]
        if self.kind in ("linear", "cosine"):
            end = float(self.end)  # type: ignore[arg-type]
            frac = 1.0 if self.steps <= 0 else min(1.0, t / self.steps)
            if self.kind == "cosine":
                frac = 0.5 * (1.0 - math.cos(math.pi * frac))
            return start + (end - start) * frac
        if self.kind == "step":
            n = bisect_right(self.milestones, t) if self.milestones else t // max(1, self.step_size)
            return start * self.gamma**n
        if self.kind == "exponential":
            v = start * self.gamma**t
            if self.end is not None:  # a floor when decaying, a ceiling when growing
                v = max(v, self.end) if self.gamma < 1 else min(v, self.end)
            return v
        raise ScheduleError(f"unknown schedule kind {self.kind!r}")


def _piecewise(points: tuple[tuple[float, float], ...], x: float) -> float:
    xs = [p[0] for p in points]
    i = bisect_right(xs, x)
    if i == 0:
        return points[0][1]
    if i == len(points):
        return points[-1][1]
    (x0, y0), (x1, y1) = points[i - 1], points[i]
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def _get(spec: Any, key: str, default: Any = None) -> Any:
    if isinstance(spec, Mapping):
        return spec.get(key, default)
    return getattr(spec, key, default)


def make_schedule(spec: Any, name: str = "schedule") -> Schedule:
    """Build a :class:`Schedule` from a ``ScheduleSpec``-shaped mapping or object, checking its fields.

    Args:
        spec: ``{kind: linear, start: 0.5, end: 0.0, steps: 100}`` and so on.
        name: Used in error messages (the target path).

    Raises:
        ScheduleError: naming the target and the missing or invalid field.
    """
    kind = str(_get(spec, "kind", "constant"))
    kind = getattr(_get(spec, "kind"), "value", kind)
    need = {
        "constant": ("value",),
        "linear": ("start", "end"),
        "cosine": ("start", "end"),
        "step": ("start",),
        "exponential": ("start",),
        "piecewise": ("points",),
    }
    if kind not in need:
        raise ScheduleError(f"{name}.kind: unknown schedule kind {kind!r}; one of {', '.join(need)}")
    for key in need[kind]:
        if _get(spec, key) in (None, [], ()):
            raise ScheduleError(f"{name}.{key}: required for a {kind} schedule")
    steps, warmup = int(_get(spec, "steps", 0) or 0), int(_get(spec, "warmup", 0) or 0)
    if kind in ("linear", "cosine") and steps <= 0:
        raise ScheduleError(f"{name}.steps: a {kind} schedule needs steps > 0")
    if steps < 0 or warmup < 0:
        raise ScheduleError(f"{name}: steps and warmup must be >= 0")
    gamma = float(_get(spec, "gamma", 1.0))
    if kind in ("step", "exponential") and gamma <= 0:
        raise ScheduleError(f"{name}.gamma: must be > 0, got {gamma}")
    raw_points = _get(spec, "points") or []
    points: list[tuple[float, float]] = []
    for p in raw_points:
        if len(p) != 2:
            raise ScheduleError(f"{name}.points: each point is [step, value], got {list(p)!r}")
        points.append((float(p[0]), float(p[1])))
    if any(b[0] <= a[0] for a, b in zip(points, points[1:], strict=False)):
        raise ScheduleError(f"{name}.points: steps must be strictly increasing")
    milestones = tuple(int(m) for m in (_get(spec, "milestones") or []))
    if list(milestones) != sorted(milestones):
        raise ScheduleError(f"{name}.milestones: must be sorted")

    def _f(key: str) -> float | None:
        v = _get(spec, key)
        return None if v is None else float(v)

    return Schedule(
        kind=kind,
        value=_f("value"),
        start=_f("start"),
        end=_f("end"),
        steps=steps,
        warmup=warmup,
        gamma=gamma,
        step_size=max(1, int(_get(spec, "step_size", 1) or 1)),
        milestones=milestones,
        points=tuple(points),
    )


def make_schedules(targets: Mapping[str, Any]) -> dict[str, Schedule]:
    """Validate every ``schedule.targets`` entry up front (so a bad one fails before training starts)."""
    out: dict[str, Schedule] = {}
    for path, spec in targets.items():
        if not path or any(not part for part in str(path).split(".")):
            raise ScheduleError(f"schedule.targets: invalid target path {path!r} (use e.g. weights.format)")
        out[str(path)] = make_schedule(spec, name=f"schedule.targets.{path}")
    return out


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"weights.format": 0.3}`` -> ``{"weights": {"format": 0.3}}`` (the shape ``POST /config`` takes)."""
    out: dict[str, Any] = {}
    for path, value in flat.items():
        node = out
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def evaluate_targets(schedules: Mapping[str, Schedule], step: int) -> dict[str, float]:
    """Values of every target at ``step``, keyed by dotted path."""
    return {path: sched(step) for path, sched in schedules.items()}

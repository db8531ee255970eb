"""Cross-environment reward normalisation for batched training (trainer side).

Environments report rewards on their own scales; a trainer mixing several of them normalises each environment's
rewards with statistics of that environment only. Three methods:

* ``running`` — ``(r - mean) / (std + eps)`` with running mean/variance (Welford, exact over all rewards seen);
* ``minmax`` — ``(r - min) / (max - min)`` over all rewards seen (0.0 while ``max == min``);
* ``percentile`` — mid-rank of ``r`` among the last ``window`` rewards, in ``[0, 1]``.

``None`` rewards (a failed component, see :class:`RewardResult`) are never counted and stay None. The state of
every environment is a JSON-able dict (:meth:`RewardNormalizer.state_dict`) for checkpoints.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Method = Literal["running", "minmax", "percentile"]


@dataclass
class _Stats:
    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    min: float = math.inf
    max: float = -math.inf
    window: deque[float] = field(default_factory=deque)
    ordered: list[float] = field(default_factory=list)


class RewardNormalizer:
    """Per-environment reward normaliser with checkpointable state.

    Args:
        method: ``running``, ``minmax`` or ``percentile``.
        eps: Added to the standard deviation (``running``).
        clip: Clip normalised values to ``[-clip, clip]`` (``running``; None = no clipping).
        window: Rewards kept per environment for ``percentile``.
    """

    def __init__(
        self, method: Method = "running", eps: float = 1e-8, clip: float | None = None, window: int = 1000
    ):
        if method not in ("running", "minmax", "percentile"):
            raise ValueError(f"method: must be running, minmax or percentile, got {method!r}")
        if window < 1:
            raise ValueError(f"window: must be >= 1, got {window}")
        self.method: Method = method
        self.eps, self.clip, self.window = eps, clip, window
        self._stats: dict[str, _Stats] = {}

    def _get(self, env: str) -> _Stats:
        st = self._stats.get(env)
        if st is None:
            st = self._stats[env] = _Stats(window=deque(maxlen=self.window))
        return st

    def update(self, env: str, rewards: Iterable[float | None]) -> None:
        """Add rewards of ``env`` to its statistics (None is skipped; NaN/inf raise ValueError)."""
        st = self._get(env)
        for r in rewards:
            if r is None:
                continue
            r = float(r)
            if not math.isfinite(r):
                raise ValueError(
                    f"reward of {env!r} is {r}; rewards must be finite (or None for a failed step)"
                )
            st.count += 1
            delta = r - st.mean
            st.mean += delta / st.count
            st.m2 += delta * (r - st.mean)
            st.min, st.max = min(st.min, r), max(st.max, r)
            if len(st.window) == st.window.maxlen:
                old = st.window.popleft()
                del st.ordered[bisect.bisect_left(st.ordered, old)]
            st.window.append(r)
            bisect.insort(st.ordered, r)

    def normalize(self, env: str, reward: float | None) -> float | None:
        """Normalise one reward of ``env`` with the current statistics (no update)."""
        if reward is None:
            return None
        st = self._get(env)
        if st.count == 0:
            return float(reward) if self.method == "running" else 0.0
        if self.method == "running":
            std = math.sqrt(st.m2 / st.count)
            out = (reward - st.mean) / (std + self.eps)
            return max(-self.clip, min(self.clip, out)) if self.clip is not None else out
        if self.method == "minmax":
            span = st.max - st.min
            return (reward - st.min) / span if span > 0 else 0.0
        lo = bisect.bisect_left(st.ordered, reward)
        hi = bisect.bisect_right(st.ordered, reward)
        return (lo + 0.5 * (hi - lo)) / len(st.ordered)

    def __call__(self, env: str, rewards: Iterable[float | None], update: bool = True) -> list[float | None]:
        """Update with a batch of ``env``'s rewards (by default), then normalise each of them."""
        batch = list(rewards)
        if update:
            self.update(env, batch)
        return [self.normalize(env, r) for r in batch]

    def stats(self, env: str) -> dict[str, float]:
        """``count``, ``mean``, ``std``, ``min``, ``max`` of ``env`` (for logging)."""
        st = self._get(env)
        std = math.sqrt(st.m2 / st.count) if st.count else 0.0
        return {"count": st.count, "mean": st.mean, "std": std, "min": st.min, "max": st.max}

    def state_dict(self) -> dict[str, Any]:
        """JSON-able state: settings and per-environment statistics."""
        return {
            "method": self.method,
            "eps": self.eps,
            "clip": self.clip,
            "window": self.window,
            "envs": {
                env: {
                    "count": st.count,
                    "mean": st.mean,
                    "m2": st.m2,
                    "min": st.min if st.count else None,
                    "max": st.max if st.count else None,
                    "window": list(st.window),
                }
                for env, st in self._stats.items()
            },
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (settings included)."""
        self.__init__(state["method"], state["eps"], state["clip"], state["window"])  # type: ignore[misc]
        for env, s in state["envs"].items():
            st = self._get(env)
            st.count, st.mean, st.m2 = int(s["count"]), float(s["mean"]), float(s["m2"])
            st.min = math.inf if s["min"] is None else float(s["min"])
            st.max = -math.inf if s["max"] is None else float(s["max"])
            st.window.extend(float(x) for x in s["window"])
            st.ordered = sorted(st.window)

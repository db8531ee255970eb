"""What a scored step reports, and the one reduction that turns components and weights into a reward.

The reduction is defined so that anyone holding an observation's metadata can recompute its reward bit for bit:
components are visited in **sorted name order**, ``total = 0.0`` and ``total += weight * component`` for every
non-zero weight; with normalisation the total is divided by the sum of the weights (summed in the same order),
and a zero weight sum gives ``0.0``. Python floats round-trip exactly through JSON, so
``combine(meta["reward_components"], meta["reward_weights"], meta.get("reward_normalized", False))`` equals
``observation.reward`` exactly.

A component that failed (an unreachable judge, a NaN) has no value; if its weight is non-zero the reward is
undefined and :func:`combine` returns None. A component with weight 0 never matters, failed or not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def combine(
    components: Mapping[str, float], weights: Mapping[str, float], normalize: bool = False
) -> float | None:
    """The reward from raw components and weights (the exact reduction every scored step uses).

    Args:
        components: Raw component scores by name (names without a weight are diagnostics and ignored).
        weights: Weight by component name.
        normalize: Divide by the sum of the weights.

    Returns:
        The reward, or None when a component with a non-zero weight has no value.
    """
    total = 0.0
    weight_sum = 0.0
    for name in sorted(weights):
        w = weights[name]
        if w == 0.0:
            continue
        value = components.get(name)
        if value is None:
            return None
        total += w * value
        weight_sum += w
    if normalize:
        return total / weight_sum if weight_sum != 0.0 else 0.0
    return total


@dataclass(frozen=True)
class RewardResult:
    """The reward story of one step.

    Attributes:
        reward: The scalar to optimise (None when a weighted component failed and no ``error_reward`` was set).
        components: Raw, unweighted score of each component by dotted name: the weighted ones (top level) and
            the nested rubrics inside them (diagnostics, e.g. ``correct.format``).
        weights: The weight of every top-level component used for ``reward``.
        errors: Message by component name for components that failed (they are absent from ``components``).
        normalized: Whether the weighted sum was divided by the sum of the weights.
    """

    reward: float | None
    components: dict[str, float]
    weights: dict[str, float]
    errors: dict[str, str] = field(default_factory=dict)
    normalized: bool = False

    def to_metadata(self) -> dict[str, Any]:
        """Observation metadata of the step.

        Returns:
            ``reward_components``, ``reward_weights`` and, when relevant, ``reward_errors`` and
            ``reward_normalized``. The env adds ``config_version`` (``base_metadata()``).
        """
        out: dict[str, Any] = {
            "reward_components": dict(self.components),
            "reward_weights": dict(self.weights),
        }
        if self.errors:
            out["reward_errors"] = dict(self.errors)
        if self.normalized:
            out["reward_normalized"] = True
        return out

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any], reward: float | None = None) -> RewardResult:
        """Rebuild from an observation's metadata (``reward`` is recomputed when not given)."""
        components = {str(k): float(v) for k, v in (metadata.get("reward_components") or {}).items()}
        weights = {str(k): float(v) for k, v in (metadata.get("reward_weights") or {}).items()}
        normalized = bool(metadata.get("reward_normalized", False))
        if reward is None:
            reward = combine(components, weights, normalized)
        return cls(reward, components, weights, dict(metadata.get("reward_errors") or {}), normalized)

    def reweighted(self, weights: Mapping[str, float]) -> float | None:
        """The reward these components would have earned under other weights (missing names keep theirs)."""
        bad = [k for k, v in weights.items() if k not in self.weights or not math.isfinite(v) or v < 0]
        if bad:
            raise ValueError(
                f"reweighted: unknown component or invalid weight for {bad}; known {sorted(self.weights)}"
            )
        return combine(self.components, {**self.weights, **weights}, self.normalized)


def as_result(item: Any) -> RewardResult:
    """A :class:`RewardResult` from a RewardResult, an observation (``reward`` + ``metadata``) or its metadata."""
    if isinstance(item, RewardResult):
        return item
    if isinstance(item, Mapping):
        return RewardResult.from_metadata(item)
    metadata = getattr(item, "metadata", None)
    if not isinstance(metadata, Mapping):
        raise TypeError(f"expected a RewardResult, an observation or its metadata, got {type(item).__name__}")
    return RewardResult.from_metadata(metadata, reward=getattr(item, "reward", None))

"""Trainer-side reward composition: from scored observations to the numbers a learner optimises.

Environments already compute their reward; the trainer may still want to (1) re-weight stored components
without a round trip to the servers (e.g. to evaluate another weighting on the same rollouts), (2) normalise
each environment's rewards on its own scale before mixing environments in one batch, and (3) log all of it.
:class:`RewardComposer` does the three in one call per batch, keeping failed steps (reward None) apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._logger import RewardLogger
from ._normalizer import RewardNormalizer
from ._result import RewardResult, as_result


class RewardComposer:
    """Re-weight (optionally), normalise per environment (optionally) and log a batch of scored steps.

    Args:
        normalizer: Per-environment normaliser (None: rewards pass through).
        logger: Reward logger (None: nothing is logged).
        weights: Trainer-side weights by environment, applied to the stored components offline (exactly as
            the env would have, see :meth:`RewardResult.reweighted`); environments not listed keep the reward
            they reported.
    """

    def __init__(
        self,
        normalizer: RewardNormalizer | None = None,
        logger: RewardLogger | None = None,
        weights: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        self.normalizer = normalizer
        self.logger = logger
        self.weights = {env: dict(w) for env, w in (weights or {}).items()}

    def compose(self, env: str, items: Iterable[Any], step: int | None = None) -> list[float | None]:
        """The learner's rewards for one batch of ``env``'s scored steps.

        Args:
            env: Environment name (normaliser key and log tag).
            items: RewardResults, observations or observation metadata.
            step: Training step for the logger (required when a logger is set).

        Returns:
            One reward per item, None where a weighted component failed (mask those samples).
        """
        results = [as_result(item) for item in items]
        override = self.weights.get(env)
        if override:
            results = [
                RewardResult(
                    r.reweighted(override), r.components, {**r.weights, **override}, r.errors, r.normalized
                )
                for r in results
            ]
        rewards = [r.reward for r in results]
        if self.normalizer is not None:
            rewards = self.normalizer(env, rewards)
        if self.logger is not None:
            if step is None:
                raise ValueError("RewardComposer.compose needs step= when a logger is set")
            self.logger.log(step, results, env=env)
        return rewards

    def state_dict(self) -> dict[str, Any]:
        """Checkpointable state: the trainer weights and the normaliser's statistics."""
        return {
            "weights": self.weights,
            "normalizer": self.normalizer.state_dict() if self.normalizer is not None else None,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (a normaliser is created if the state has one and this has none)."""
        self.weights = {env: dict(w) for env, w in (state.get("weights") or {}).items()}
        if state.get("normalizer") is not None:
            if self.normalizer is None:
                self.normalizer = RewardNormalizer()
            self.normalizer.load_state_dict(state["normalizer"])

"""The wordle reward: three trajectory rubrics scored at episode end, with discounted per-step credit.

Components (raw scores in [0, 1], weights in ``WordleConfig.weights``):

* ``solved`` — 1 if the last guess was the secret.
* ``efficiency`` — ``(max_turns - turns_used + 1) / max_turns`` when solved (1.0 for a first-turn solve),
  else 0.
* ``valid_guesses`` — the fraction of turns whose guess was a valid word (5 letters, and in the word list when
  the env requires it).

Every step before the last gets reward 0; the final step gets the weighted sum. Each rubric also assigns
per-step credit (discounted return-to-go with ``gamma``); the env reports the weighted credit of each step in
the final observation's ``metadata["step_credits"]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openenv_harness.rubric import Step, TrajectoryRubric, WeightedSum


def _guess(step: Step) -> str:
    return str(getattr(step.action, "guess", "")).strip().lower()


class Solved(TrajectoryRubric):
    """1.0 when the final guess is the secret (read from the rubric context, never from observations)."""

    def score_trajectory(self, steps: Sequence[Step], truncated: bool) -> float:
        """Compare the last guess with ``context["secret"]``."""
        return 1.0 if steps and _guess(steps[-1]) == self.context.get("secret") else 0.0


class Efficiency(TrajectoryRubric):
    """Fewer turns to solve score higher: ``(max_turns - used + 1) / max_turns``, 0 when unsolved."""

    def score_trajectory(self, steps: Sequence[Step], truncated: bool) -> float:
        """Score the number of turns used when the episode was solved."""
        if not steps or _guess(steps[-1]) != self.context.get("secret"):
            return 0.0
        max_turns = int(self.context.get("max_turns", len(steps)))
        return max(0.0, (max_turns - len(steps) + 1) / max_turns)


class ValidGuesses(TrajectoryRubric):
    """The fraction of turns whose guess the env accepted as a word (observation ``error`` is empty)."""

    def score_trajectory(self, steps: Sequence[Step], truncated: bool) -> float:
        """Fraction of steps without an ``error``."""
        if not steps:
            return 0.0
        return sum(1 for s in steps if not getattr(s.observation, "error", "")) / len(steps)


def build_rubric(gamma: float = 1.0) -> WeightedSum:
    """The env's rubric tree: a weighted sum of the three trajectory components."""
    params: dict[str, Any] = {"gamma": gamma}
    return WeightedSum(
        {
            "solved": Solved(**params),
            "efficiency": Efficiency(**params),
            "valid_guesses": ValidGuesses(**params),
        }
    )

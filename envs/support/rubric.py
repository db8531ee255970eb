"""The support reward: the final database against the goal's expected database, plus communication.

Components (trajectory rubrics, scored at episode end; earlier steps get 0):

* ``db_match`` — 1.0 if the final database equals the expected one exactly (the requested change and nothing
  else: a wrong cancellation elsewhere fails it), else 0.0.
* ``communication`` — 1.0 if one of the agent's messages to the user contains the fact the goal requires (the
  refund amount, the return label code, or the changed order's id), else 0.0.

Ground truth (expected database, required fact) comes from the rubric context set at reset; the final
database is read through a callable in that context, never from observations.
"""

from __future__ import annotations

from collections.abc import Sequence

from openenv_harness.rubric import Step, TrajectoryRubric, WeightedSum


class DatabaseMatch(TrajectoryRubric):
    """Final database == expected database."""

    def score_trajectory(self, steps: Sequence[Step], truncated: bool) -> float:
        """Compare ``context["current_db"]()`` with ``context["expected_db"]``."""
        return 1.0 if self.context["current_db"]() == self.context["expected_db"] else 0.0


class Communication(TrajectoryRubric):
    """The agent told the user the required fact (case-insensitive substring of a ``message`` action)."""

    def score_trajectory(self, steps: Sequence[Step], truncated: bool) -> float:
        """Look for ``context["must_say"]`` in the agent's messages."""
        fact = str(self.context["must_say"]).lower()
        said = (str(getattr(s.action, "message", "") or "") for s in steps)
        return 1.0 if fact and any(fact in m.lower() for m in said) else 0.0


def build_rubric(gamma: float = 1.0) -> WeightedSum:
    """The env's rubric tree."""
    return WeightedSum({"db_match": DatabaseMatch(gamma=gamma), "communication": Communication(gamma=gamma)})

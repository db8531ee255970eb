"""Unit-test rubrics of a scored code submission: the pass fraction and "it compiles".

Running and scoring are split: the environment grades a submission with
:class:`openenv_harness.verify.CallVerifier` (the submission runs in the sandbox; only its plain-data
return values cross back; the comparison with the expected values happens in the grader) and puts the
counts on the observation (``tests_passed``, ``tests_total``, ``compiles``). These rubrics read them
there, so a stored observation can be re-scored offline.

One *unit* is one assert of the original tests (an assert in a loop makes one unit of many calls): the
pass fraction is ``passed units / units``, as HumanEval's per-assert partial credit.
"""

from __future__ import annotations

from typing import Any

from openenv_harness.rubric import Rubric, RubricError
from openenv_harness.verify import CallReport

UnitTestReport = CallReport
"""The report a graded submission produces (kept under its former name)."""


def _field(observation: Any, name: str) -> Any:
    if isinstance(observation, dict):
        return observation.get(name)
    return getattr(observation, name, None)


class PassFraction(Rubric):
    """``tests_passed / tests_total`` of a scored submission (0.0 when no unit ran)."""

    def forward(self, action: Any, observation: Any) -> float:
        """Read the counts the verifier produced from the observation."""
        passed, total = _field(observation, "tests_passed"), _field(observation, "tests_total")
        if passed is None or total is None:
            raise RubricError(
                "PassFraction: the observation has no tests_passed/tests_total (not a submission)"
            )
        return float(passed) / float(total) if total else 0.0


class Compiles(Rubric):
    """1.0 when the submission compiled and defined the entry point (observation field ``compiles``)."""

    def forward(self, action: Any, observation: Any) -> float:
        """Read ``compiles`` from the observation."""
        value = _field(observation, "compiles")
        if value is None:
            raise RubricError("Compiles: the observation has no compiles field (not a submission)")
        return 1.0 if value else 0.0

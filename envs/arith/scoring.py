"""Answer parsing and the two reward components of arith: ``correct`` and ``format``.

``correct`` (0 or 1): the *final* number in the free-text answer equals the expected answer (within 1e-6);
scored by :class:`rubrics.match.NumericMatch`.

``format`` (0, 0.5 or 1) is a partial signal a small model can climb before it is ever right:

* 1.0 — the answer is just a number (surrounding whitespace and one trailing period allowed);
* 0.5 — it contains exactly one number, with other words around it (``The answer is 12.``);
* 0.0 — no number at all, or several numbers (the last one still counts for ``correct``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from openenv_harness.rubric import Rubric, WeightedSum
from openenv_harness.rubric._text import action_text
from openenv_harness.rubrics.match import NumericMatch, extract_final_number

NUMBER_RE = re.compile(r"(?<![\w.])[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-−]?\d+(?:\.\d+)?")
_JUST_A_NUMBER = re.compile(r"^\s*(" + NUMBER_RE.pattern + r")\s*\.?\s*$")


def numbers_in(text: str) -> list[float]:
    """Every number in ``text``, in order (thousands separators and a Unicode minus understood)."""
    out = []
    for token in NUMBER_RE.findall(text):
        try:
            out.append(float(token.replace(",", "").replace("−", "-")))
        except ValueError:
            continue
    return out


def final_number(text: str) -> float | None:
    """The last number in ``text`` as ``correct`` reads it (:func:`rubrics.match.extract_final_number`)."""
    return extract_final_number(text)


def format_score(text: str) -> float:
    """1.0 for a bare number, 0.5 for exactly one number in other text, 0.0 otherwise."""
    if _JUST_A_NUMBER.match(text):
        return 1.0
    return 0.5 if len(numbers_in(text)) == 1 else 0.0


class AnswerFormat(Rubric):
    """The ``format`` component: 1.0 bare number, 0.5 exactly one number in text, else 0.0."""

    @dataclass
    class Config:
        """Format parameters.

        Attributes:
            text_field: Action field with the answer.
        """

        text_field: str = "answer"

    config: Config

    def forward(self, action: Any, observation: Any) -> float:
        """Score the shape of the answer (not its value)."""
        return format_score(action_text(action, self.config.text_field))


def arith_rubric(tolerance: float = 1e-6) -> WeightedSum:
    """The arith rubric tree: ``correct`` and ``format``; weights come from the reward config.

    ``correct`` is :class:`rubrics.match.NumericMatch` on the final number (it reads the episode context's
    ``answer``), ``format`` is :class:`AnswerFormat`.
    """
    return WeightedSum(
        {
            "correct": NumericMatch(
                target_key="answer", abs_tol=tolerance, rel_tol=tolerance, text_field="answer"
            ),
            "format": AnswerFormat(),
        }
    )

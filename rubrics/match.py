"""Answer-matching rubrics: exact match and numeric match with tolerance.

Both read the reference from the episode context (``reset(context={"answer": ...})``, key ``target_key``);
a missing reference is an error (reported, never scored 0), while a response without the answer is simply
wrong (0.0).
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass
from typing import Any

from openenv_harness.rubric import Rubric, RubricError
from openenv_harness.rubric._text import action_text

_NUMBER = re.compile(
    r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?|(?<![\w.])-?\.\d+"
)


def extract_final_number(text: str) -> float | None:
    """The last number written in free text (``"so the total is 1,234.5."`` -> 1234.5), or None.

    Thousands separators, signs, decimals, exponents and simple fractions (``3/4``) are understood.
    """
    matches = _NUMBER.findall(text)
    if not matches:
        return None
    token = matches[-1].replace(",", "").replace(" ", "")
    if "/" in token:
        num, den = token.split("/", 1)
        return float(num) / float(den) if float(den) != 0 else None
    return float(token)


def _reference(rubric: Rubric, key: str) -> Any:
    if key not in rubric.context:
        raise RubricError(
            f"{type(rubric).__name__}: the episode context has no {key!r} (reference answer); pass it with "
            f"rubric.reset(context={{{key!r}: ...}}); context keys: {sorted(rubric.context)}"
        )
    return rubric.context[key]


class ExactMatch(Rubric):
    """1.0 when the response equals the reference (or one of a list of references) after normalisation."""

    @dataclass
    class Config:
        """Exact-match parameters.

        Attributes:
            target_key: Context key of the reference (a string or a list of accepted strings).
            case_sensitive: Compare case.
            strip_punctuation: Drop surrounding punctuation (``"Paris."`` matches ``"Paris"``).
            text_field: Action field with the response (``auto``: see ``action_text``).
        """

        target_key: str = "answer"
        case_sensitive: bool = False
        strip_punctuation: bool = True
        text_field: str = "auto"

    config: Config

    def _norm(self, text: str) -> str:
        text = " ".join(str(text).split())
        if self.config.strip_punctuation:
            text = text.strip(string.punctuation + " ")
        return text if self.config.case_sensitive else text.lower()

    def forward(self, action: Any, observation: Any) -> float:
        """Compare the normalised response with the normalised reference(s)."""
        ref = _reference(self, self.config.target_key)
        refs = ref if isinstance(ref, list | tuple) else [ref]
        got = self._norm(action_text(action, self.config.text_field))
        return float(any(got == self._norm(r) for r in refs))


class NumericMatch(Rubric):
    """1.0 when the last number in the response is within tolerance of the reference number."""

    @dataclass
    class Config:
        """Numeric-match parameters.

        Attributes:
            target_key: Context key of the reference (a number or text containing one).
            abs_tol: Absolute tolerance.
            rel_tol: Relative tolerance.
            text_field: Action field with the response.
        """

        target_key: str = "answer"
        abs_tol: float = 1e-6
        rel_tol: float = 0.0
        text_field: str = "auto"

    config: Config

    def forward(self, action: Any, observation: Any) -> float:
        """Extract the final number of the response and compare."""
        ref = _reference(self, self.config.target_key)
        target = float(ref) if isinstance(ref, int | float) else extract_final_number(str(ref))
        if target is None:
            raise RubricError(f"NumericMatch: reference {ref!r} contains no number")
        got = extract_final_number(action_text(action, self.config.text_field))
        if got is None or not math.isfinite(got):
            return 0.0
        return float(math.isclose(got, target, rel_tol=self.config.rel_tol, abs_tol=self.config.abs_tol))

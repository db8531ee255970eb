"""Answer parsing and the two reward components of arith: ``correct`` and ``format``.

``correct`` (0 or 1): the *final* number in the free-text answer equals the expected answer (within 1e-6).

``format`` (0, 0.5 or 1) is a partial signal a small model can climb before it is ever right:

* 1.0 — the answer is just a number (surrounding whitespace and one trailing period allowed);
* 0.5 — it contains exactly one number, with other words around it (``The answer is 12.``);
* 0.0 — no number at all, or several numbers (the last one still counts for ``correct``).
"""

from __future__ import annotations

import math
import re

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
    """The last number in ``text``, or None when there is none."""
    found = numbers_in(text)
    return found[-1] if found else None


def correct_score(text: str, expected: float, tol: float = 1e-6) -> float:
    """1.0 when the final number in ``text`` equals ``expected`` (within ``tol``), else 0.0."""
    got = final_number(text)
    if got is None:
        return 0.0
    return 1.0 if math.isclose(got, expected, rel_tol=tol, abs_tol=tol) else 0.0


def format_score(text: str) -> float:
    """1.0 for a bare number, 0.5 for exactly one number in other text, 0.0 otherwise."""
    if _JUST_A_NUMBER.match(text):
        return 1.0
    return 0.5 if len(numbers_in(text)) == 1 else 0.0

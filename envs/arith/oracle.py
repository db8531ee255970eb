"""Reference policies of arith for the conformance checker: the oracle answers right, the null says nothing."""

from __future__ import annotations

from typing import Any

from .generator import generate


def hidden(seed: int, **task: Any) -> dict[str, Any]:
    """Ground truth of the generator episode a seed selects (what must never appear in observations)."""
    gen = generate(seed, int(task.get("difficulty", 1)))
    return {"answer": str(gen.answer)}


def oracle_action(observation: dict[str, Any], hidden: dict[str, Any]) -> dict[str, Any]:
    """The right answer, as a bare number (full ``correct`` and ``format`` credit)."""
    return {"answer": hidden["answer"]}


def null_action(observation: dict[str, Any]) -> dict[str, Any]:
    """Do nothing: an empty answer."""
    return {"answer": ""}

"""Reference policies of coding for the conformance checker."""

from __future__ import annotations

import random
from typing import Any

from .tasks import _humaneval_rows


def hidden(seed: int, **task: Any) -> dict[str, Any]:
    """Ground truth of the HumanEval task a seed selects (default task source): tests and reference solution."""
    rows = _humaneval_rows()
    row = rows[int(task["index"])] if "index" in task else rows[random.Random(seed).randrange(len(rows))]
    return {"test": row["test"], "canonical_solution": row["canonical_solution"]}


def oracle_action(observation: dict[str, Any], hidden: dict[str, Any]) -> dict[str, Any]:
    """Submit the reference solution (the prompt from the reset observation + the canonical body)."""
    return {"code": observation["prompt"] + hidden["canonical_solution"], "submit": True}


def null_action(observation: dict[str, Any]) -> dict[str, Any]:
    """Do nothing: submit empty code."""
    return {"code": "", "submit": True}

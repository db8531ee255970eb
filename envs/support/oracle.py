"""Reference policies of the support env for the conformance checker (``openenv_harness.checks``).

``oracle_action`` knows the goal (from ``hidden``): it identifies the customer, applies the one right change,
and tells the customer the required fact; the scripted user then ends the conversation (maximum reward).
``null_action`` sends empty messages (the database never changes: reward 0).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from .data import build

_MUTATION = {"cancel": "cancel_order", "change_address": "update_address", "return": "request_return"}


def hidden(seed: int, **task: Any) -> dict[str, Any]:
    """The goal and the expected final database of the episode a seed selects."""
    _, goal, expected = build(seed)
    return {"goal": dataclasses.asdict(goal), "expected_db": expected}


def oracle_action(observation: dict[str, Any], hidden: dict[str, Any]) -> dict[str, Any]:
    """find_customer -> the goal's tool -> tell the customer the required fact."""
    goal = hidden["goal"]
    result = json.loads(observation["tool_result"]) if observation.get("tool_result") else None
    if result is None and not observation.get("tool_error") and observation.get("policy"):
        return {"tool": "find_customer", "args": {"email": goal["email"]}}
    if isinstance(result, dict) and "customer_id" in result:
        args = {"order_id": goal["order_id"]}
        if goal["kind"] == "change_address":
            args["address"] = goal["new_address"]
        return {"tool": _MUTATION[goal["kind"]], "args": args}
    return {"message": f"All done for order {goal['order_id']}: {goal['must_say']}. Anything else?"}


def null_action(observation: dict[str, Any]) -> dict[str, Any]:
    """Do nothing: an empty message."""
    return {"message": ""}

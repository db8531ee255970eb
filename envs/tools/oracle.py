"""Reference policies of the tools env for the conformance checker (``openenv_harness.checks``).

``oracle_action`` plays honestly through ``step``: it rebuilds the reference query from the template name and
parameters in the observation metadata (both are part of the visible question), runs it with the ``sql`` tool,
and submits the value the tool returned; ``hidden`` is only used by the checker to look for leaks.
``null_action`` submits an empty answer (reward 0).
"""

from __future__ import annotations

import json
from typing import Any

from .database import build_database
from .tasks import make_task, reference_sql

MAX_REWARD = 1.0
"""With the default weights: ``weights.correct`` times 1."""


def hidden(seed: int, **task: Any) -> dict[str, Any]:
    """The reference answer of the episode a seed selects (never in observations)."""
    conn = build_database(seed)
    try:
        return {"answer": make_task(conn, seed, task.get("template")).answer}
    finally:
        conn.close()


def inline_sql(template: str, params: dict[str, Any]) -> str:
    """The reference query of a template with its parameters inlined as SQL string literals."""
    sql = reference_sql(template)
    for key, value in params.items():
        sql = sql.replace(f":{key}", "'{}'".format(str(value).replace("'", "''")))
    return sql


def oracle_action(observation: dict[str, Any], hidden: dict[str, Any] | None = None) -> dict[str, Any]:
    """First step: run the reference query with ``sql``; next step: answer with the value it returned."""
    result = observation.get("tool_result")
    if result is None:
        task = observation["metadata"]["task"]
        return {"tool": "sql", "args": {"query": inline_sql(task["template"], task["params"])}}
    return {"answer": str(json.loads(result)["rows"][0][0])}


def null_action(observation: dict[str, Any]) -> dict[str, Any]:
    """Do nothing: submit an empty answer at once."""
    return {"answer": ""}

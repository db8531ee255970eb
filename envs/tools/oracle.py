"""Reference policies for the tools env: an oracle that answers with the tools, and a do-nothing policy.

The oracle plays honestly through ``step``: it rebuilds the reference query from the template name and
parameters in the observation metadata (both are part of the visible question), runs it with the ``sql``
tool, and submits the value it read. It never reads the env's ground truth.
"""

from __future__ import annotations

import json
from typing import Any

from .environment import ToolsObservation
from .tasks import reference_sql

_INLINE = "'{}'"


def _inline(sql: str, params: dict[str, Any]) -> str:
    for key, value in params.items():
        sql = sql.replace(f":{key}", _INLINE.format(str(value).replace("'", "''")))
    return sql


def oracle_policy(obs: ToolsObservation) -> dict[str, Any]:
    """First step: query the answer with ``sql``; second step: submit what the query returned."""
    if obs.tool_result is None:
        task = obs.metadata["task"]
        return {"tool": "sql", "args": {"query": _inline(reference_sql(task["template"]), task["params"])}}
    value = json.loads(obs.tool_result)["rows"][0][0]
    return {"answer": str(value)}


def do_nothing_policy(obs: ToolsObservation) -> dict[str, Any]:
    """Submit an empty answer at once."""
    return {"answer": ""}

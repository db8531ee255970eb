"""How the harness talks to the tools env: SQL queries and tool calls over turns, then an explicit answer.

A reply is, in this order: a JSON tool call or answer (``{"tool": "sql", "args": {...}}``,
``{"answer": "..."}``); a final answer marked ``ANSWER: ...`` (at the start of a line); otherwise a SQL query
(the body of a fenced ``sql`` block, else the whole reply), run by the ``sql`` tool, whose rows or error the
model sees next turn. The final answer must be marked so that a model that thinks aloud does not end the
episode by accident, and a model can look rows up over several turns without writing JSON. An episode that
never answers is cut at ``env.max_turns`` with no reward.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from openenv_harness.rollout import TextAdapter

_NUM = re.compile(r"-?\d+(?:\.\d+)?")
_SQL_BLOCK = re.compile(r"```sql\s*\n(.*?)(```|$)", re.S | re.I)
_ANSWER = re.compile(r"^\s*ANSWER\s*:\s*(.*)", re.I | re.M | re.S)


def baseline(obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
    """Answers with the last number in the question without querying anything: right only by coincidence."""
    nums = _NUM.findall(str(obs.get("question", "")))
    return f"ANSWER: {nums[-1] if nums else 0}"


@dataclass(frozen=True)
class ToolsAdapter(TextAdapter):
    """:class:`TextAdapter` for the tools env's text protocol (see the module docstring)."""

    def to_action(self, text: str) -> dict[str, Any]:
        """JSON tool call or answer; else ``ANSWER: ...``; else a SQL query."""
        action = super().to_action(text)
        if "tool" in action or action.get("answer") != text:
            return action  # the reply was JSON
        marked = _ANSWER.search(text)
        if marked:
            return {"answer": marked.group(1).strip()}
        block = _SQL_BLOCK.search(text)
        return {"tool": "sql", "args": {"query": (block.group(1) if block else text).strip()}}


ADAPTER = ToolsAdapter(
    env_id="tools",
    system_prompt=(
        "Answer the question about the shop database. Reply with one SQL query (SQLite) and you will see its "
        'rows; for arithmetic you may call {"tool": "calculator", "args": {"expression": "..."}}. '
        "When you know the answer, reply with ANSWER: followed by the answer."
    ),
    action_field="answer",
    prompt_fields=("question", "schema_sql", "tool_result", "tool_error"),
    baseline=baseline,
    json_keys=("tool", "args", "answer"),
    success_component="correct",
)

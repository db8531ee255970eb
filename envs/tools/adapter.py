"""How the harness talks to the tools env: SQL queries and JSON tool calls, then a plain-text answer.

A reply is, in this order: a JSON tool call or answer (``{"tool": "sql", "args": {...}}``,
``{"answer": "..."}``); a SQL query (a fenced ``sql`` block, or a reply that starts with ``SELECT`` or
``WITH``), sent to the ``sql`` tool; otherwise the final answer. A model can thus look rows up over several
turns before it answers, without having to write JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from openenv_harness.rollout import TextAdapter

_NUM = re.compile(r"-?\d+(?:\.\d+)?")
_SQL_BLOCK = re.compile(r"```sql\s*\n(.*?)(```|$)", re.S | re.I)
_SQL_START = re.compile(r"^\s*(SELECT|WITH)\b", re.I)


def baseline(obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
    """Answers with the last number in the question without querying anything: right only by coincidence."""
    nums = _NUM.findall(str(obs.get("question", "")))
    return nums[-1] if nums else "0"


@dataclass(frozen=True)
class ToolsAdapter(TextAdapter):
    """:class:`TextAdapter` that also reads a bare SQL query as a call of the ``sql`` tool."""

    def to_action(self, text: str) -> dict[str, Any]:
        """JSON tool call or answer; else a SQL query; else the final answer."""
        action = super().to_action(text)
        if "answer" not in action:
            return action
        block = _SQL_BLOCK.search(text)
        if block:
            return {"tool": "sql", "args": {"query": block.group(1).strip()}}
        if _SQL_START.match(text):
            return {"tool": "sql", "args": {"query": text.strip()}}
        return action


ADAPTER = ToolsAdapter(
    env_id="tools",
    system_prompt=(
        "Answer the question about the shop database. To look rows up, reply with one SQL SELECT query and "
        "you will see its result; for arithmetic you may call "
        '{"tool": "calculator", "args": {"expression": "..."}}. When you know it, reply with just the answer.'
    ),
    action_field="answer",
    prompt_fields=("question", "schema_sql", "tool_result", "tool_error"),
    baseline=baseline,
    json_keys=("tool", "args", "answer"),
    success_component="correct",
)

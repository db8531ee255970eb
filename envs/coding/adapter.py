"""How the harness talks to the coding env: run code and read its output, then submit.

A reply's code (the body of its fenced block, else the whole reply) is **run** in the sandbox (``submit``
false) and the next prompt shows its output; a reply that says ``SUBMIT`` (as a word, outside or before the
block) is **submitted** and graded. The env grades its last turn whatever the flag, so an episode always
ends with a submission. This makes coding genuinely multi-turn for a model that tests before it submits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from openenv_harness.rollout import TextAdapter

_SUBMIT = re.compile(r"\bSUBMIT\b")


def baseline(obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
    """Submits at once a function that returns its first argument: passes identity-like tests only."""
    prompt = str(obs.get("prompt") or obs.get("task") or obs.get("question") or "")
    m = re.search(r"def\s+(\w+)\s*\(([^)]*)\)", prompt)
    if not m:
        return "SUBMIT\n```python\ndef solution(*args):\n    return args[0] if args else None\n```"
    name, params = m.group(1), m.group(2)
    first = params.split(",")[0].split(":")[0].split("=")[0].strip() or "None"
    return f"SUBMIT\n```python\ndef {name}({params}):\n    return {first}\n```"


@dataclass(frozen=True)
class CodingAdapter(TextAdapter):
    """:class:`TextAdapter` whose ``submit`` flag comes from the reply (the word ``SUBMIT``)."""

    def render(self, obs: dict[str, Any]) -> str:
        """The task on the first turn; afterwards the status line and the run's output."""
        if obs.get("prompt"):
            return str(obs["prompt"])
        parts = [str(obs.get("message") or "")]
        for name in ("stdout", "stderr"):
            if obs.get(name):
                parts.append(f"{name}:\n{obs[name]}")
        return "\n".join(p for p in parts if p)

    def to_action(self, text: str) -> dict[str, Any]:
        """Code from the reply's block; ``submit`` when the reply says SUBMIT outside its code."""
        action = super().to_action(text)
        outside = re.sub(r"```.*?(```|$)", "", text, flags=re.S)
        action["submit"] = bool(_SUBMIT.search(outside))
        return action


ADAPTER = CodingAdapter(
    env_id="coding",
    system_prompt=(
        "Complete the Python function. Reply with the full function in one ```python code block: it runs in "
        "a sandbox and you see its output. Write SUBMIT before the block to have it graded by the unit "
        "tests; your last turn is graded anyway."
    ),
    action_field="code",
    prompt_fields=("prompt",),
    action_extra={"language": "python"},
    baseline=baseline,
    strip_code_fences=True,
    success_component="tests",
)

"""How the harness talks to the arith env: the question (and, on a retry, the feedback) as the prompt."""

from __future__ import annotations

import re
from typing import Any

from openenv_harness.rollout import TextAdapter

_NUM = re.compile(r"-?\d+(?:\.\d+)?")


def _fmt_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def baseline(obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
    """Adds every number in the question: right for sums, wrong for differences and products.

    A fixed heuristic with partial credit, not the oracle; on a retry it answers the same again.
    """
    nums = [float(n) for n in _NUM.findall(str(obs.get("question", "")))]
    return _fmt_number(sum(nums)) if nums else "0"


ADAPTER = TextAdapter(
    env_id="arith",
    system_prompt="Answer the arithmetic question with just the number.",
    action_field="answer",
    prompt_fields=("feedback", "question"),
    baseline=baseline,
    success_component="correct",
    first_present=True,
)

"""How the harness talks to the echo env: the greeting as the prompt, the reply as the message."""

from __future__ import annotations

from typing import Any

from openenv_harness.rollout import TextAdapter


def baseline(obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
    """Answers the greeting with itself; later turns repeat the last echoed message."""
    return str(obs.get("greeting") or obs.get("message") or "hello")


ADAPTER = TextAdapter(
    env_id="echo",
    system_prompt="Reply with a short friendly message.",
    action_field="message",
    prompt_fields=("greeting", "message"),
    baseline=baseline,
)

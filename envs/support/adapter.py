"""How the harness talks to the support env: the customer's message in, a message or a JSON tool call out."""

from __future__ import annotations

from typing import Any

from openenv_harness.rollout import TextAdapter


def baseline(obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
    """Talks politely but never uses a tool: partial communication credit at best, never the goal."""
    return "Thanks for reaching out! Could you tell me the email address on your account?"


ADAPTER = TextAdapter(
    env_id="support",
    system_prompt=(
        "You are a customer-support agent. Follow the policy. Use a tool by replying with JSON "
        '{"tool": name, "args": {...}}; anything else is sent to the customer as a message.'
    ),
    action_field="message",
    prompt_fields=("policy", "user_message", "tool_result", "tool_error"),
    baseline=baseline,
    json_keys=("tool", "args", "message"),
    success_component="db_match",
)

"""How the harness talks to an environment in text: prompts from observations, actions from completions.

An :class:`EnvAdapter` turns an observation (the wire ``observation`` fields) into the next user message of a
chat, and a model completion into the env's action object. Known environments get a tuned prompt; any other
environment gets the generic adapter, which lists the observation's fields and puts the completion into the
action field named by ``env.action_field`` (or the first string field of the action's JSON schema).

Adapters also carry the per-env scripted baselines (``policy=scripted``): fixed, deterministic strategies
that are neither the oracle nor a no-op, used to check a pipeline end to end without a model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Scripted = Callable[[dict[str, Any], list[dict[str, str]]], str]
"""A scripted baseline: (observation fields, chat so far) -> completion text."""

_NUM = re.compile(r"-?\d+(?:\.\d+)?")


def _fmt_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _arith_scripted(obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
    # Adds every number in the question: right for sums, wrong for differences and products. A fixed
    # heuristic with partial credit, not the oracle.
    nums = [float(n) for n in _NUM.findall(str(obs.get("question", "")))]
    return _fmt_number(sum(nums)) if nums else "0"


def _echo_scripted(obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
    # Answers the greeting with itself; later turns repeat the last echoed message.
    return str(obs.get("greeting") or obs.get("message") or "hello")


def _coding_scripted(obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
    # Returns the first argument unchanged: passes identity-like tests, fails the rest.
    prompt = str(obs.get("prompt") or obs.get("task") or obs.get("question") or "")
    m = re.search(r"def\s+(\w+)\s*\(([^)]*)\)", prompt)
    if not m:
        return "def solution(*args):\n    return args[0] if args else None\n"
    name, params = m.group(1), m.group(2)
    first = params.split(",")[0].split(":")[0].split("=")[0].strip() or "None"
    return f"def {name}({params}):\n    return {first}\n"


_WORDLE_OPENERS = ("crane", "sloth", "pudgy", "wimpy", "fable", "mound")
_WORD5 = re.compile(r"\b[a-zA-Z]{5}\b")


def _wordle_scripted(obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
    # A fixed sequence of openers that ignores the feedback: it covers many letters and solves some words,
    # but never reasons from the board.
    turn = sum(1 for m in chat if m.get("role") == "assistant")
    return _WORDLE_OPENERS[turn % len(_WORDLE_OPENERS)]


def _tools_scripted(obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
    # Answers with the last number in the question (or 0) without querying anything: right only by
    # coincidence, a floor any tool-using policy should beat.
    nums = _NUM.findall(str(obs.get("question", "")))
    return nums[-1] if nums else "0"


def _support_scripted(obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
    # Talks politely but never uses a tool, so the database never changes: partial communication credit at
    # best, never the goal.
    return "Thanks for reaching out! Could you tell me the email address on your account?"


def _last_word5(text: str) -> str:
    found = _WORD5.findall(text)
    return found[-1].lower() if found else text.strip()[:64]


def _generic_scripted(obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
    # Repeats the first text field of the observation (a fixed, content-dependent answer).
    for value in obs.values():
        if isinstance(value, str) and value:
            return value[:200]
    return "ok"


@dataclass(frozen=True)
class EnvAdapter:
    """Text interface of one environment type.

    Attributes:
        env_id: The environment id it serves.
        system_prompt: Default system message.
        action_field: Action field receiving the completion text.
        prompt_fields: Observation fields shown to the model, in order (empty: all non-empty fields).
        action_extra: Constant fields added to every action (e.g. ``language``).
        scripted: The scripted baseline.
        strip_code_fences: Take the body of a fenced code block when the completion has one.
        extract: Turns the completion text into the action field's value (e.g. the last 5-letter word).
        json_keys: Action fields a completion may set itself by replying with a JSON object (e.g. tool calls
            ``{"tool": ..., "args": {...}}``); any other completion goes to ``action_field``.
    """

    env_id: str
    system_prompt: str
    action_field: str
    prompt_fields: tuple[str, ...] = ()
    action_extra: dict[str, Any] = field(default_factory=dict)
    scripted: Scripted = _generic_scripted
    strip_code_fences: bool = False
    extract: Callable[[str], str] | None = None
    json_keys: tuple[str, ...] = ()

    def render(self, obs: dict[str, Any]) -> str:
        """The user message for an observation (its env-specific fields)."""
        keys = self.prompt_fields or tuple(k for k, v in obs.items() if v not in (None, "", [], {}))
        if len(keys) == 1:
            return str(obs.get(keys[0], ""))
        parts = []
        for k in keys:
            v = obs.get(k)
            if v in (None, "", [], {}):
                continue
            parts.append(f"{k}: {v if isinstance(v, str) else json.dumps(v)}")
        return "\n".join(parts)

    def to_action(self, text: str) -> dict[str, Any]:
        """The action object for a completion."""
        if self.json_keys:
            try:
                obj = json.loads(text.strip())
            except ValueError:
                obj = None
            if isinstance(obj, dict) and obj and set(obj) <= set(self.json_keys):
                return obj
        if self.strip_code_fences:
            m = re.search(r"```[a-zA-Z0-9_+-]*\n(.*?)(```|$)", text, re.S)
            if m:
                text = m.group(1)
        if self.extract is not None:
            text = self.extract(text)
        return {**self.action_extra, self.action_field: text}


_KNOWN: dict[str, EnvAdapter] = {
    "echo": EnvAdapter(
        env_id="echo",
        system_prompt="Reply with a short friendly message.",
        action_field="message",
        prompt_fields=("greeting", "message"),
        scripted=_echo_scripted,
    ),
    "arith": EnvAdapter(
        env_id="arith",
        system_prompt="Answer the arithmetic question with just the number.",
        action_field="answer",
        prompt_fields=("question",),
        scripted=_arith_scripted,
    ),
    "wordle": EnvAdapter(
        env_id="wordle",
        system_prompt="Play Wordle: guess the secret 5-letter word. Reply with a single 5-letter word.",
        action_field="guess",
        prompt_fields=("message", "board", "turns_left", "error"),
        scripted=_wordle_scripted,
        extract=_last_word5,
    ),
    "tools": EnvAdapter(
        env_id="tools",
        system_prompt=(
            "Answer the question about the shop database. Call a tool by replying with JSON "
            '{"tool": "sql", "args": {"query": "SELECT ..."}} or {"tool": "calculator", "args": '
            '{"expression": "..."}}; give the final answer as {"answer": "..."} or as plain text.'
        ),
        action_field="answer",
        prompt_fields=("question", "schema_sql", "tool_result", "tool_error"),
        scripted=_tools_scripted,
        json_keys=("tool", "args", "answer"),
    ),
    "support": EnvAdapter(
        env_id="support",
        system_prompt=(
            "You are a customer-support agent. Follow the policy. Use a tool by replying with JSON "
            '{"tool": name, "args": {...}}; anything else is sent to the customer as a message.'
        ),
        action_field="message",
        prompt_fields=("policy", "user_message", "tool_result", "tool_error"),
        scripted=_support_scripted,
        json_keys=("tool", "args", "message"),
    ),
    "coding": EnvAdapter(
        env_id="coding",
        system_prompt="Complete the Python function. Reply with the full function in one code block.",
        action_field="code",
        prompt_fields=("prompt",),
        action_extra={"language": "python", "submit": True},
        scripted=_coding_scripted,
        strip_code_fences=True,
    ),
}


def first_string_field(action_schema: dict[str, Any]) -> str | None:
    """The first string-typed property of an action JSON schema (required ones first)."""
    props: dict[str, Any] = action_schema.get("properties", {}) or {}
    required = list(action_schema.get("required", []) or [])
    for name in required + [p for p in props if p not in required]:
        if props.get(name, {}).get("type") == "string":
            return name
    return None


def adapter_for(
    env_id: str, action_field: str | None = None, action_schema: dict[str, Any] | None = None
) -> EnvAdapter:
    """The adapter of ``env_id``: a known one, or the generic one built from the action schema.

    Args:
        env_id: The environment id.
        action_field: ``env.action_field`` override.
        action_schema: The action JSON schema from ``GET /schema`` (for unknown envs).

    Raises:
        ValueError: when no action field can be determined (naming ``env.action_field``).
    """
    known = _KNOWN.get(env_id)
    if known is not None:
        if action_field and action_field != known.action_field:
            return EnvAdapter(**{**known.__dict__, "action_field": action_field})
        return known
    field_name = action_field or (first_string_field(action_schema) if action_schema else None)
    if not field_name:
        raise ValueError(
            f"cannot tell which action field of env {env_id!r} takes the model's text: set env.action_field"
        )
    return EnvAdapter(
        env_id=env_id, system_prompt="You are an agent acting in an environment.", action_field=field_name
    )

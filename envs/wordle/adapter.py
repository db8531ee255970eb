"""How the harness talks to the wordle env: the board as the prompt, the reply's last 5-letter word guessed."""

from __future__ import annotations

import re
from typing import Any

from openenv_harness.rollout import TextAdapter

_OPENERS = ("crane", "sloth", "pudgy", "wimpy", "fable", "mound")
_WORD5 = re.compile(r"\b[a-zA-Z]{5}\b")


def last_word5(text: str) -> str:
    """The last 5-letter word of a reply (lower-cased), else the reply's start."""
    found = _WORD5.findall(text)
    return found[-1].lower() if found else text.strip()[:64]


def baseline(obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
    """A fixed sequence of openers that ignores the feedback: covers many letters, never reasons."""
    turn = sum(1 for m in chat if m.get("role") == "assistant")
    return _OPENERS[turn % len(_OPENERS)]


ADAPTER = TextAdapter(
    env_id="wordle",
    system_prompt="Play Wordle: guess the secret 5-letter word. Reply with a single 5-letter word.",
    action_field="guess",
    prompt_fields=("message", "board", "turns_left", "error"),
    baseline=baseline,
    extract=last_word5,
    success_component="solved",
)

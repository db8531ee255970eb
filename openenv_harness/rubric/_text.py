"""Getting the agent's text out of an action, for text-scoring rubrics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._config import RubricError

AUTO_FIELDS = ("response", "answer", "message", "content", "text", "completion", "code")
"""Fields tried, in order, by ``text_field="auto"``."""


def action_text(action: Any, field: str = "auto") -> str:
    """The text a rubric scores: the action itself if it is a string, else one of its fields.

    Args:
        action: A string, a mapping or an object (e.g. a pydantic action).
        field: The field to read, or ``"auto"`` for the first string field among :data:`AUTO_FIELDS`.

    Raises:
        RubricError: when the field is missing or not a string (naming what the action has).
    """
    if isinstance(action, str):
        return action

    def get(name: str) -> Any:
        if isinstance(action, Mapping):
            return action.get(name)
        return getattr(action, name, None)

    if field != "auto":
        value = get(field)
        if not isinstance(value, str):
            raise RubricError(
                f"action field {field!r} is {type(value).__name__}, expected text: {action!r:.200}"
            )
        return value
    for name in AUTO_FIELDS:
        value = get(name)
        if isinstance(value, str):
            return value
    raise RubricError(
        f"no text field in action (tried {', '.join(AUTO_FIELDS)}; set text_field): {action!r:.200}"
    )

"""Length penalty: 0 within budget, down to -1 as the response grows past it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openenv_harness.rubric import Rubric
from openenv_harness.rubric._text import action_text


class LengthPenalty(Rubric):
    """``-min(1, (length - max_length) / span)`` past the budget, else 0.

    The score is non-positive so that it combines with a non-negative weight as a penalty.
    """

    @dataclass
    class Config:
        """Length-penalty parameters.

        Attributes:
            max_length: Budget (no penalty up to it).
            span: Extra length over which the penalty grows from 0 to -1 (default: ``max_length``).
            unit: ``chars`` or ``words``.
            text_field: Action field with the response.
        """

        max_length: int = 512
        span: int | None = None
        unit: str = "chars"
        text_field: str = "auto"

        def __post_init__(self) -> None:
            if self.unit not in ("chars", "words"):
                raise ValueError(f"unit: must be 'chars' or 'words', got {self.unit!r}")
            if self.max_length < 0 or (self.span is not None and self.span <= 0):
                raise ValueError("max_length must be >= 0 and span > 0")

    config: Config

    def forward(self, action: Any, observation: Any) -> float:
        """Penalise the excess length."""
        text = action_text(action, self.config.text_field)
        n = len(text.split()) if self.config.unit == "words" else len(text)
        excess = n - self.config.max_length
        if excess <= 0:
            return 0.0
        span = self.config.span or max(1, self.config.max_length)
        return -min(1.0, excess / span)

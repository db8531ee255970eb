"""Format checks: a regular expression, or valid JSON with required keys."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from openenv_harness.rubric import Rubric
from openenv_harness.rubric._text import action_text

_FLAGS = {"IGNORECASE": re.IGNORECASE, "MULTILINE": re.MULTILINE, "DOTALL": re.DOTALL}


class RegexMatch(Rubric):
    """1.0 when the response matches ``pattern`` (0.0 otherwise; reversed with ``negate``)."""

    @dataclass
    class Config:
        """Regex parameters.

        Attributes:
            pattern: The regular expression.
            mode: ``search`` (anywhere) or ``fullmatch`` (the whole stripped response).
            flags: Any of ``IGNORECASE``, ``MULTILINE``, ``DOTALL``.
            negate: Score 1.0 when it does *not* match (e.g. forbid a phrase).
            text_field: Action field with the response.
        """

        pattern: str = r".+"
        mode: str = "search"
        flags: list[str] = field(default_factory=list)
        negate: bool = False
        text_field: str = "auto"

        def __post_init__(self) -> None:
            if self.mode not in ("search", "fullmatch"):
                raise ValueError(f"mode: must be 'search' or 'fullmatch', got {self.mode!r}")
            unknown = [f for f in self.flags if f not in _FLAGS]
            if unknown:
                raise ValueError(f"flags: unknown {unknown}; known {sorted(_FLAGS)}")
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern {self.pattern!r} is not a valid regex: {exc}") from None

    config: Config

    def __init__(self, config: Any | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        flags = 0
        for name in self.config.flags:
            flags |= _FLAGS[name]
        self._regex = re.compile(self.config.pattern, flags)

    def forward(self, action: Any, observation: Any) -> float:
        """Match the response."""
        text = action_text(action, self.config.text_field)
        hit = (
            self._regex.fullmatch(text.strip())
            if self.config.mode == "fullmatch"
            else self._regex.search(text)
        )
        return float((hit is not None) != self.config.negate)


class JsonFormat(Rubric):
    """1.0 when the response is a JSON object holding every key in ``required_keys``."""

    @dataclass
    class Config:
        """JSON-format parameters.

        Attributes:
            required_keys: Keys the object must have.
            text_field: Action field with the response.
        """

        required_keys: list[str] = field(default_factory=list)
        text_field: str = "auto"

    config: Config

    def forward(self, action: Any, observation: Any) -> float:
        """Parse and check the keys."""
        try:
            value = json.loads(action_text(action, self.config.text_field))
        except json.JSONDecodeError:
            return 0.0
        return float(isinstance(value, dict) and all(k in value for k in self.config.required_keys))

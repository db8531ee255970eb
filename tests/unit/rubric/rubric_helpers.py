"""Small rubrics shared by the rubric unit tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from openenv_harness.rubric import Rubric


class Length(Rubric):
    """len(action) * scale."""

    @dataclass
    class Config:
        scale: float = 1.0

    def forward(self, action, observation):
        return self.config.scale * len(action)


class Const(Rubric):
    """Returns a fixed value and counts its calls (to check fail-fast)."""

    @dataclass
    class Config:
        value: float = 1.0

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        self.calls = 0

    def forward(self, action, observation):
        self.calls += 1
        return self.config.value


class Bad(Rubric):
    """Returns whatever it was built with (NaN, None, a string) or raises."""

    def __init__(self, value=float("nan"), exc: Exception | None = None):
        super().__init__()
        self.value, self.exc = value, exc

    def forward(self, action, observation):
        if self.exc is not None:
            raise self.exc
        return self.value


class SlowAsync(Rubric):
    """An async rubric that sleeps, then returns a value."""

    @dataclass
    class Config:
        value: float = 0.5
        delay: float = 0.05

    async def forward(self, action, observation):
        await asyncio.sleep(self.config.delay)
        return self.config.value


class Answer(Rubric):
    """1.0 if the action equals context['answer'] (ground truth handed over by reset)."""

    def forward(self, action, observation):
        return float(action == self.context["answer"])

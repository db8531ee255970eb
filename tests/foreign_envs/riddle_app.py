"""A reasoning-gym-like OpenEnv env that ignores seeds: questions come from a sequential iterator.

Like OpenEnv's ``reasoning_gym_env``, every reset serves the next question of a fixed list whatever seed is
passed, so "same seed, same task" does not hold. One step per episode: a string ``answer``; reward 1.0 when
it equals the expected number.
"""

from __future__ import annotations

import itertools
from typing import Any
from uuid import uuid4

from openenv.core.env_server import Action, Environment, Observation, State, create_app
from pydantic import Field

_QUESTIONS = [(f"How many legs do {n} spiders have?", str(8 * n)) for n in range(1, 40)]


class RiddleAction(Action):
    """The answer to the question."""

    answer: str = Field(description="Your final answer, a number.")


class RiddleObservation(Observation):
    """The question, and after the answer whether it was right."""

    question: str = ""
    correct_answer: str | None = None


class RiddleEnvironment(Environment):
    """Counts legs; a seed does not choose the question (it is ignored)."""

    def __init__(self) -> None:
        super().__init__()
        self._state = State(episode_id=str(uuid4()), step_count=0)
        self._iter = itertools.cycle(_QUESTIONS)
        self._current = _QUESTIONS[0]

    def reset(
        self, seed: int | None = None, episode_id: str | None = None, **kwargs: Any
    ) -> RiddleObservation:
        self._current = next(self._iter)
        self._state = State(episode_id=episode_id or str(uuid4()), step_count=0)
        return RiddleObservation(question=self._current[0], done=False, reward=0.0)

    def step(self, action: RiddleAction, timeout_s: float | None = None, **kwargs: Any) -> RiddleObservation:  # type: ignore[override]
        self._state.step_count += 1
        ok = action.answer.strip() == self._current[1]
        return RiddleObservation(
            question=self._current[0], correct_answer=self._current[1], done=True, reward=1.0 if ok else 0.0
        )

    @property
    def state(self) -> State:
        return self._state


app = create_app(RiddleEnvironment, RiddleAction, RiddleObservation, env_name="riddle_env")

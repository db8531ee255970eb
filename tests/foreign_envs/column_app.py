"""A Connect4-like OpenEnv env with an integer action: drop a piece into the hidden target column.

The seed chooses the target column and a few pieces already on the board (seeds are honoured, and the first
observation shows it); after a wrong column the observation says whether the target lies left or right, and three wrong drops end the game. Served with OpenEnv's default session
cap (``max_concurrent_envs`` unset, i.e. one session).
"""

from __future__ import annotations

import random
from typing import Any
from uuid import uuid4

from openenv.core.env_server import Action, Environment, Observation, State, create_app
from pydantic import Field


class ColumnAction(Action):
    """Where to drop the piece."""

    column: int = Field(ge=0, le=6, description="The column index (0 to 6) to drop a piece into.")


class ColumnObservation(Observation):
    """The board so far and a hint after each miss."""

    board: list[int] = Field(default_factory=list, description="Pieces per column.")
    legal_actions: list[int] = Field(default_factory=list)
    hint: str = ""


class ColumnEnvironment(Environment):
    """Find the target column in at most three drops."""

    def __init__(self) -> None:
        super().__init__()
        self._state = State(episode_id=str(uuid4()), step_count=0)
        self._target = 0
        self._board = [0] * 7

    def reset(
        self, seed: int | None = None, episode_id: str | None = None, **kwargs: Any
    ) -> ColumnObservation:
        rng = random.Random(seed)
        self._target = rng.randrange(7)
        self._board = [rng.randrange(3) for _ in range(7)]
        self._state = State(episode_id=episode_id or str(uuid4()), step_count=0)
        return ColumnObservation(
            board=list(self._board),
            legal_actions=list(range(7)),
            hint="find the column",
            done=False,
            reward=0.0,
        )

    def step(self, action: ColumnAction, timeout_s: float | None = None, **kwargs: Any) -> ColumnObservation:  # type: ignore[override]
        self._state.step_count += 1
        self._board[action.column] += 1
        if action.column == self._target:
            return ColumnObservation(board=list(self._board), hint="hit", done=True, reward=1.0)
        hint = "left" if self._target < action.column else "right"
        done = self._state.step_count >= 3
        return ColumnObservation(
            board=list(self._board), legal_actions=list(range(7)), hint=hint, done=done, reward=0.0
        )

    @property
    def state(self) -> State:
        return self._state


app = create_app(ColumnEnvironment, ColumnAction, ColumnObservation, env_name="column_env")

"""guess: answer ``a + b`` for a row of the taskset; reward 1 when the integer answer is right.

A third-party package: the orchestrator never imports it. It reads its rows itself (jsonl, no ``datasets``)
from the taskset folder it is handed, picks the row by ``split``/``index`` (or the seed), and reports whether
its declared secret reached its process (never the value).
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from pydantic import Field

from openenv_harness.spec import Action, EnvError, Environment, ErrorCode, Observation, State


class GuessAction(Action):
    """The agent's answer."""

    answer: int = Field(description="The sum, as an integer.")


class GuessObservation(Observation):
    """The question; after the answer, whether it was right."""

    question: str = ""
    secret_set: bool = False
    interpreter: str = ""


class GuessEnvironment(Environment[GuessAction, GuessObservation]):
    """One question per episode from the taskset's rows (``a``, ``b``; ``answer`` hidden)."""

    name = "guess"
    version = "0.3.0"
    description = "Answer a + b."
    action_type = GuessAction
    observation_type = GuessObservation
    state_type = State

    def __init__(self, taskset: str | None = None) -> None:
        super().__init__()
        if not taskset:
            raise EnvError(ErrorCode.VALIDATION_ERROR, "guess needs taskset=<folder>")
        root = Path(taskset.split("#", 1)[0])
        self._rows = {
            p.stem: [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
            for p in (root / "data").glob("*.jsonl")
        }
        self._row: dict[str, Any] = {}
        self._state = State()

    def reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        split: str = "train",
        index: int | None = None,
    ) -> GuessObservation:
        rows = self._rows[split]
        self._row = rows[index if index is not None else (seed or 0) % len(rows)]
        self._state = State(episode_id=episode_id or uuid.uuid4().hex, step_count=0)
        return GuessObservation(
            question=f"What is {self._row['a']} + {self._row['b']}?",
            secret_set=bool(os.environ.get("GUESS_TOKEN")),
            interpreter=sys.prefix,
            metadata=self.base_metadata(),
        )

    def step(self, action: GuessAction, timeout_s: float | None = None) -> GuessObservation:
        self._state.step_count += 1
        right = action.answer == self._row["answer"]
        meta = self.base_metadata()
        meta["reward_components"] = {"correct": float(right)}
        return GuessObservation(question="", reward=float(right), done=True, metadata=meta)

    @property
    def state(self) -> State:
        return self._state

"""Action, observation, state and reward config of the arith environment."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import Field

from openenv_harness.rubric import RewardConfig
from openenv_harness.spec import Action, Observation, State


class ArithAction(Action):
    """The agent's answer, in free text; the final number in it is what counts."""

    answer: str = Field(max_length=4096, description="Free text; its final number is the answer.")


class ArithObservation(Observation):
    """The question after reset; after the answer, what was understood of it.

    Attributes:
        question: The question to answer.
        difficulty: Level 1-5 of the question.
        task_id: Id of the task (generator seed or taskset row).
        parsed_answer: The final number found in the agent's answer (None before it answers or when the
            answer has no number). The expected answer is never shown.
        feedback: With ``attempts > 1``, after a wrong answer: what was wrong (too large or too small, or no
            number found) and the question again; empty otherwise.
        attempts_left: Answers the agent may still give.
    """

    question: str = ""
    difficulty: int = 1
    task_id: str = ""
    parsed_answer: float | None = None
    feedback: str = ""
    attempts_left: int = 1


class ArithState(State):
    """Episode state: the seed, task id and difficulty (never the answer)."""

    seed: int | None = None
    task_id: str | None = None
    difficulty: int | None = None
    attempts_used: int = 0


@dataclass
class ArithConfig(RewardConfig):
    """Reward config: ``reward = weights.correct * correct + weights.format * format``.

    Attributes:
        schema_version: Version of this schema.
        weights: ``correct`` (final number right, 0/1) and ``format`` (bare number 1, one number in text 0.5).
    """

    schema_version: str = "1"
    weights: dict[str, float] = field(default_factory=lambda: {"correct": 1.0, "format": 0.2})

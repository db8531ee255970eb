"""Action, observation, state and reward config of the coding environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from openenv_harness.rubric import RewardConfig
from openenv_harness.spec import Action, Observation, State


class CodingAction(Action):
    """Run a program in the episode's sandbox, or submit a solution.

    Attributes:
        code: The program (Python or bash). A submission is Python that defines the task's entry point.
        language: ``python`` (default) or ``bash``.
        submit: False runs the code and shows its output; True scores it with the task's unit tests and ends
            the episode.
    """

    code: str = Field(max_length=100_000)
    language: Literal["python", "bash"] = "python"
    submit: bool = False


class CodingObservation(Observation):
    """What the agent sees.

    Attributes:
        prompt: The task (function signature and docstring); set on the reset observation only.
        entry_point: Name of the function to implement.
        task_id: Task id (e.g. ``HumanEval/0``).
        stdout: Standard output of the last run (at most the output cap).
        stderr: Standard error of the last run.
        exit_code: Exit status of the last run (None after reset or for a submission; negative = signal).
        timed_out: The last run hit its wall-clock limit.
        truncated: Output of the last run was cut at the cap.
        duration_s: Wall time of the last run.
        restarted: With ``session``: the interpreter had to be restarted during the last run (it crashed,
            exited, or did not stop after its timeout), so its state is gone; ``message`` says why.
        files: Top-level entries of the work dir after the last run (at most 50, directories end in ``/``).
        turn: Actions taken so far in this episode.
        turns_left: Actions left before the episode ends (the last one is scored as a submission).
        tests_passed: Unit tests passed by the submission (None before submitting).
        tests_total: Unit tests in the task (None before submitting).
        compiles: The submission compiled and defined the entry point (None before submitting).
        message: A one-line status (what happened, or why nothing ran).
    """

    prompt: str = ""
    entry_point: str = ""
    task_id: str = ""
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    timed_out: bool = False
    truncated: bool = False
    duration_s: float = 0.0
    files: list[str] = Field(default_factory=list)
    restarted: bool = False
    turn: int = 0
    turns_left: int = 0
    tests_passed: int | None = None
    tests_total: int | None = None
    compiles: bool | None = None
    message: str = ""


class CodingState(State):
    """Episode state (never the tests or the reference solution)."""

    seed: int | None = None
    task_id: str | None = None
    submitted: bool = False
    sandbox: str = "bwrap"


@dataclass
class CodingConfig(RewardConfig):
    """Reward config: ``reward = weights.tests * tests + weights.compiles * compiles`` at the scored step.

    Attributes:
        schema_version: Version of this schema.
        weights: ``tests`` = unit-test pass fraction (0..1); ``compiles`` = 1 when the submission compiles
            and defines the entry point.
    """

    schema_version: str = "1"
    weights: dict[str, float] = field(default_factory=lambda: {"tests": 1.0, "compiles": 0.1})

"""Arith: arithmetic QA with numeric answer checking and a format component; optionally with retries.

With ``attempts=1`` (the default) an episode is one question and one answer. With ``attempts=N`` a wrong
answer is not the end: the env says whether the answer was too large or too small (or had no number) and
asks again, up to N answers. Only the final answer is scored (the right answer, or the last attempt); earlier
steps carry ``reward=None`` (nothing scored yet), so the return of an episode is the reward of its final
answer: answering right on a retry earns what answering right at once does, and wrong attempts cannot be
farmed for format points. The hint says only "larger"/"smaller", never the answer.

Tasks come from the seeded generator (``difficulty`` 1-5, see :mod:`envs.arith.generator`) or, with
``taskset=`` set, from a taskset such as the shipped ``tasksets/arith`` (``reset(split=..., index=...)``).
A question can also be given directly as a reset argument (``reset(question="What is 3 + 4?")``), which is
how a generic dataset binding passes the taskset's ``openenv_reset`` column; its answer is then computed
from the expression (or taken from an ``answer`` reset argument, which only the orchestrator can send).
"""

from __future__ import annotations

import random
import uuid
from typing import Annotated, Any

from pydantic import Field

from openenv_harness.rubric import check_reward_config
from openenv_harness.spec import EnvError, Environment, ErrorCode, validated_init

from .generator import MAX_DIFFICULTY, MIN_DIFFICULTY, answer_of, generate
from .models import ArithAction, ArithConfig, ArithObservation, ArithState
from .scoring import arith_rubric, final_number
from .tasks import ArithTaskRow, TasksetBinding


class ArithEnvironment(Environment[ArithAction, ArithObservation]):
    """Answer one arithmetic question; reward = weights.correct * correct + weights.format * format.

    Args:
        difficulty: Default generator level (1 easiest, 5 hardest); a ``difficulty`` reset argument overrides it.
        taskset: Path (or reference) of a taskset to draw questions from instead of the generator.
        split: Default split of the taskset.
        tolerance: Absolute and relative tolerance of the numeric comparison.
        attempts: Answers allowed per episode (1: single-turn; more: a wrong answer gets a hint and a retry).
    """

    name = "arith"
    description = "Arithmetic QA; the final number of a free-text answer is checked; optional retries."
    version = "0.2.0"
    action_type = ArithAction
    observation_type = ArithObservation
    state_type = ArithState
    config_type = ArithConfig

    @validated_init
    def __init__(
        self,
        difficulty: Annotated[int, Field(ge=MIN_DIFFICULTY, le=MAX_DIFFICULTY)] = 1,
        taskset: str | None = None,
        split: str = "train",
        tolerance: Annotated[float, Field(ge=0)] = 1e-6,
        attempts: Annotated[int, Field(ge=1, le=10)] = 1,
    ) -> None:
        super().__init__()
        self.attempts = int(attempts)
        self.tolerance = tolerance
        self.rubric = arith_rubric(tolerance)
        check_reward_config(self.reward_config, self.rubric)
        self.difficulty = int(difficulty)
        self.split = split
        self._binding = TasksetBinding(taskset) if taskset else None
        self._state = ArithState()
        self._task: ArithTaskRow | None = None
        self._done = True

    def _select(self, seed: int, task: dict[str, Any]) -> ArithTaskRow:
        allowed = {"difficulty", "split", "index", "question", "answer"}
        unknown = sorted(set(task) - allowed)
        if unknown:
            raise EnvError(
                ErrorCode.VALIDATION_ERROR,
                f"arith reset got unknown argument(s) {unknown}; allowed: {sorted(allowed)}",
            )
        if "question" in task:
            question = str(task["question"])
            difficulty = int(task.get("difficulty", self.difficulty))
            try:
                answer = float(task["answer"]) if "answer" in task else answer_of(question)
            except ValueError as exc:
                raise EnvError(ErrorCode.VALIDATION_ERROR, f"{exc}; pass answer= as well") from None
            return ArithTaskRow(
                f"given/{uuid.uuid5(uuid.NAMESPACE_OID, question).hex[:12]}", question, answer, difficulty
            )
        if "answer" in task:
            raise EnvError(ErrorCode.VALIDATION_ERROR, "answer= is only accepted together with question=")
        if self._binding is not None:
            if "difficulty" in task:
                raise EnvError(
                    ErrorCode.VALIDATION_ERROR, "difficulty cannot be chosen when bound to a taskset"
                )
            return self._binding.select(
                seed=seed, split=task.get("split", self.split), index=task.get("index")
            )
        if "split" in task or "index" in task:
            raise EnvError(
                ErrorCode.VALIDATION_ERROR,
                "split/index select taskset rows, but this arith env has no taskset (set taskset=...)",
            )
        try:
            difficulty = int(task.get("difficulty", self.difficulty))
            gen = generate(seed, difficulty)
        except (TypeError, ValueError) as exc:
            raise EnvError(ErrorCode.VALIDATION_ERROR, str(exc)) from None
        return ArithTaskRow(gen.task_id, gen.question, float(gen.answer), gen.difficulty)

    def reset(self, seed: int | None = None, episode_id: str | None = None, **task: Any) -> ArithObservation:
        """Pick the question the seed (and task arguments) determine."""
        if seed is None:
            seed = random.SystemRandom().randrange(2**31)
        self._task = self._select(int(seed), task)
        # The question is context too, for judges that grade the answer against it (rubric=judge).
        self.rubric.reset(context={"answer": self._task.answer, "question": self._task.question})
        self._state = ArithState(
            episode_id=episode_id or uuid.uuid4().hex,
            step_count=0,
            seed=seed,
            task_id=self._task.task_id,
            difficulty=self._task.difficulty,
        )
        self._done = False
        meta = self.base_metadata()
        meta.update(task_id=self._task.task_id, seed=seed)
        return ArithObservation(
            question=self._task.question,
            difficulty=self._task.difficulty,
            task_id=self._task.task_id,
            attempts_left=self.attempts,
            metadata=meta,
        )

    def step(self, action: ArithAction, timeout_s: float | None = None) -> ArithObservation:
        """Score the answer; the episode ends after this one step."""
        if self._task is None:
            raise EnvError(ErrorCode.NOT_RESET, "arith: call reset before step")
        if self._done:
            raise EnvError(ErrorCode.EPISODE_DONE, "the episode is over; reset to start a new one")
        self._state.step_count += 1
        self._state.attempts_used += 1
        parsed = final_number(action.answer)
        left = self.attempts - self._state.attempts_used
        obs = ArithObservation(
            question=self._task.question,
            difficulty=self._task.difficulty,
            task_id=self._task.task_id,
            parsed_answer=parsed,
            attempts_left=left,
            done=True,
        )
        # The rubric decides what is right (one definition for reward and retries).
        result = self.rubric.score(action, obs, weights=self.reward_config.weights)
        if result.components.get("correct", 0.0) <= 0 and left > 0:
            return self._retry(parsed, left)
        self._done = True
        obs.reward = result.reward
        obs.metadata = {
            **self.base_metadata(),
            "task_id": self._task.task_id,
            "seed": self._state.seed,
            "attempts_used": self._state.attempts_used,
            **result.to_metadata(),
        }
        return obs

    def _retry(self, parsed: float | None, left: int) -> ArithObservation:
        """A wrong answer with attempts left: a hint (larger/smaller), the question again, nothing scored."""
        assert self._task is not None
        if parsed is None:
            hint = "No number found in your answer."
        else:
            shown = int(parsed) if float(parsed).is_integer() else parsed
            hint = f"{shown} is wrong: the answer is {'smaller' if parsed > self._task.answer else 'larger'}."
        return ArithObservation(
            question=self._task.question,
            difficulty=self._task.difficulty,
            task_id=self._task.task_id,
            parsed_answer=parsed,
            feedback=f"{hint} Try again ({left} left). {self._task.question}",
            attempts_left=left,
            done=False,
            reward=None,
            metadata={
                **self.base_metadata(),
                "task_id": self._task.task_id,
                "seed": self._state.seed,
                "attempts_used": self._state.attempts_used,
            },
        )

    @property
    def state(self) -> ArithState:
        """Current episode state."""
        return self._state

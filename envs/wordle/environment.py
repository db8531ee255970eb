"""Wordle: guess a seeded secret 5-letter word in a few turns, with per-letter feedback.

Each step is one turn: the agent sends ``{"guess": "crane"}`` and sees, per letter, ``G`` (right letter, right
place), ``Y`` (in the word elsewhere) or ``.`` (not in the word, or no more copies of it). An invalid guess
(not 5 letters, or not in the word list when ``require_known_word``) uses up the turn and is reported in
``error``. The episode ends when the word is found or the turns run out.

The secret never appears in an observation or in the state, not even at the end (the agent sees the
word only if it guessed it); it is server-side ground truth for the rubric (``ground_truth()``). The reward is
computed by a trajectory rubric at episode end (see ``rubric.py``).
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field

from openenv_harness.rubric import trajectory_credits
from openenv_harness.spec import Action, EnvError, Environment, ErrorCode, Observation, State, validated_init

from .game import GREEN, WORD_LENGTH, feedback, pick_secret, word_list
from .rubric import build_rubric

# Worded so that no secret word appears in it as a whole word (checked by a test): the checker for ground-truth
# leaks would otherwise flag the first observation of an episode whose secret is, say, "right".
_INSTRUCTIONS = (
    'Find the secret {n}-letter English word within {turns} turns. Send {{"guess": "<word>"}}. Per '
    "letter, feedback G = correct letter, correct position; Y = letter elsewhere in the word; . = letter absent "
    "(or no further copies)."
)


class WordleAction(Action):
    """One guess (case-insensitive)."""

    guess: str = Field(max_length=64)


class WordleObservation(Observation):
    """What the agent sees after each turn.

    Attributes:
        guess: The guess just played (lower case; empty after reset).
        feedback: Its per-letter feedback (``G``/``Y``/``.``), empty for an invalid guess or after reset.
        board: Every turn so far as ``"guess feedback"`` lines.
        turns_left: Turns remaining.
        error: Why the guess was invalid (the turn is still used up); empty when valid.
        message: Instructions (after reset) or the outcome of the turn.
    """

    guess: str = ""
    feedback: str = ""
    board: list[str] = Field(default_factory=list)
    turns_left: int = 0
    error: str = ""
    message: str = ""


class WordleState(State):
    """Episode state: seed, turns, solved flag (never the secret)."""

    seed: int | None = None
    max_turns: int = 6
    solved: bool = False
    done: bool = True


@dataclass
class WordleConfig:
    """Reward config: component weights and the discount of the per-step credit."""

    schema_version: str = "1"
    weights: dict[str, float] = field(
        default_factory=lambda: {"solved": 1.0, "efficiency": 0.5, "valid_guesses": 0.1}
    )
    gamma: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.gamma) and 0.0 <= self.gamma <= 1.0):
            raise ValueError(f"gamma: must be in [0, 1], got {self.gamma}")


class WordleEnvironment(Environment[WordleAction, WordleObservation]):
    """The multi-turn word game.

    Args:
        max_turns: Guesses allowed per episode.
        require_known_word: Only accept guesses from the shipped word list.
    """

    name = "wordle"
    description = "Guess a seeded secret 5-letter word with per-letter feedback; trajectory-rubric reward."
    version = "0.2.0"
    action_type = WordleAction
    observation_type = WordleObservation
    state_type = WordleState
    config_type = WordleConfig

    @validated_init
    def __init__(self, max_turns: Annotated[int, Field(ge=1)] = 6, require_known_word: bool = False) -> None:
        super().__init__()
        self.max_turns = max_turns
        self.require_known_word = require_known_word
        self.rubric = build_rubric()
        self._secret = ""
        self._puzzle_id = ""
        self._board: list[str] = []
        self._state = WordleState(max_turns=max_turns)

    def reset(self, seed: int | None = None, episode_id: str | None = None, **task: Any) -> WordleObservation:
        """Pick the secret (``index`` selects ``words[index]``, else the seed draws one) and start."""
        unknown = set(task) - {"index"}
        if unknown:
            raise EnvError(
                ErrorCode.VALIDATION_ERROR,
                f"wordle takes only 'index' as task argument, got {sorted(unknown)}",
            )
        index = task.get("index")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
            raise EnvError(ErrorCode.VALIDATION_ERROR, f"index must be an integer, got {index!r}")
        # An opaque, seed-determined id of the puzzle (a hash of the seed/index, not of the secret): eval logs and
        # GRPO groups can tell puzzles apart while the first observation reveals nothing about the word.
        self._puzzle_id = hashlib.sha256(f"wordle:{seed}:{index}".encode()).hexdigest()[:12]
        if seed is None and index is None:
            self._puzzle_id = uuid.uuid4().hex[:12]
        try:
            self._secret = pick_secret(seed, index)
        except ValueError as exc:
            raise EnvError(ErrorCode.VALIDATION_ERROR, str(exc)) from None
        # Rebuilt per episode so a changed gamma applies from this episode on, never mid-episode.
        self.rubric = build_rubric(self.reward_config.gamma)
        self.rubric.reset(context={"secret": self._secret, "max_turns": self.max_turns})
        self._board = []
        self._state = WordleState(
            episode_id=episode_id or uuid.uuid4().hex, seed=seed, max_turns=self.max_turns, done=False
        )
        meta = self.base_metadata()
        meta["episode_id"] = self._state.episode_id
        meta["puzzle_id"] = self._puzzle_id
        return WordleObservation(
            turns_left=self.max_turns,
            message=_INSTRUCTIONS.format(n=WORD_LENGTH, turns=self.max_turns),
            metadata=meta,
        )

    def _invalid(self, guess: str) -> str:
        if len(guess) != WORD_LENGTH or not guess.isascii() or not guess.isalpha():
            return f"a guess must be exactly {WORD_LENGTH} letters a-z, got {guess!r}"
        if self.require_known_word and guess not in word_list():
            return f"{guess!r} is not in the word list"
        return ""

    def step(self, action: WordleAction, timeout_s: float | None = None) -> WordleObservation:
        """Play one guess; on the last turn (or a solve) the rubric scores the whole episode."""
        if self._state.done:
            raise EnvError(ErrorCode.EPISODE_DONE, "the episode is over; reset to start a new one")
        guess = action.guess.strip().lower()
        self._state.step_count += 1
        error = self._invalid(guess)
        fb = "" if error else feedback(guess, self._secret)
        self._board.append(f"{guess} {fb}" if not error else f"{guess or '-'} invalid")
        solved = fb == GREEN * WORD_LENGTH
        turns_left = self.max_turns - self._state.step_count
        done = solved or turns_left <= 0
        self._state.solved, self._state.done = solved, done
        if solved:
            message = f"Solved in {self._state.step_count} turn(s)."
        elif done:
            message = "Out of turns."
        else:
            message = error or f"{turns_left} turn(s) left."
        obs = WordleObservation(
            guess=guess,
            feedback=fb,
            board=list(self._board),
            turns_left=turns_left,
            error=error,
            message=message,
            done=done,
        )
        weights = dict(self.reward_config.weights)
        result = self.rubric.score(action, obs, weights=weights)
        obs.reward = result.reward
        obs.metadata = {
            **self.base_metadata(),
            "episode_id": self._state.episode_id,
            "puzzle_id": self._puzzle_id,
            **result.to_metadata(),
        }
        if done:
            obs.metadata["solved"] = solved
            obs.metadata["turns_used"] = self._state.step_count
            obs.metadata["step_credits"] = trajectory_credits(self.rubric, result.weights)
        return obs

    @property
    def state(self) -> WordleState:
        """Episode state (no secret)."""
        return self._state

    def ground_truth(self) -> str:
        """The secret of the current episode (server-side only)."""
        return self._secret

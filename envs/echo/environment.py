"""Echo: the reference environment of the runtime.

The agent sends ``{"message": str}``; the observation echoes it back. The reward is the message length times
``weights.length`` (so the trainer can steer it through ``POST /config``). The episode ends after ``max_steps``
steps. A seed picks a visible ``greeting`` word of the first observation, so determinism is testable.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field

from openenv_harness.spec import (
    Action,
    EnvError,
    Environment,
    ErrorCode,
    Observation,
    State,
    validated_init,
)

_GREETINGS = ("hello", "bonjour", "hola", "ciao", "hallo", "salut", "ahoj", "hej", "moi", "ola")


class EchoAction(Action):
    """What the agent sends: a message to echo."""

    message: str


class EchoObservation(Observation):
    """What comes back: the echoed message and, after reset, a seed-dependent greeting."""

    message: str = ""
    greeting: str = ""


class EchoState(State):
    """Echo state: the seed of the episode besides the common fields."""

    seed: int | None = None


@dataclass
class EchoConfig:
    """Reward config of the echo env (owned by the env, values steered by the trainer)."""

    schema_version: str = "1"
    weights: dict[str, float] = field(default_factory=lambda: {"length": 0.1})


class SyncEchoEnvironment(Environment[EchoAction, EchoObservation]):
    """Echoes messages; reward proportional to message length (synchronous methods only).

    Servers run this variant on their worker thread pool; :class:`EchoEnvironment` adds non-blocking async
    variants that run on the event loop. Both behave identically otherwise, so benchmarks and tests can compare
    the two execution paths on the same environment.

    Args:
        max_steps: Steps after which the episode is done.
        crash_on: A message that makes ``step`` raise (to test that a crashing env never takes a server down).
        sleep_on: A message prefix ``sleep:<seconds>`` makes ``step`` sleep that long (to test timeouts).
        step_delay_s: Seconds every ``step`` takes (to keep episodes in flight in fault tests).
    """

    name = "echo-sync"
    description = "Echoes the agent's message; reward is its length times weights.length."
    version = "0.2.0"
    action_type = EchoAction
    observation_type = EchoObservation
    state_type = EchoState
    config_type = EchoConfig

    @validated_init
    def __init__(
        self,
        max_steps: Annotated[int, Field(ge=1)] = 5,
        crash_on: str | None = "__crash__",
        sleep_on: bool = True,
        step_delay_s: Annotated[float, Field(ge=0)] = 0.0,
    ) -> None:
        super().__init__()
        self.max_steps = max_steps
        self.crash_on = crash_on
        self.sleep_on = sleep_on
        self.step_delay_s = step_delay_s
        self._state = EchoState()
        self._done = True

    def reset(self, seed: int | None = None, episode_id: str | None = None, **task: Any) -> EchoObservation:
        """Start an episode; the seed picks the greeting."""
        if task:
            raise EnvError(ErrorCode.VALIDATION_ERROR, f"echo takes no task arguments, got {sorted(task)}")
        rng = random.Random(seed)
        greeting = rng.choice(_GREETINGS)
        self._state = EchoState(episode_id=episode_id or uuid.uuid4().hex, step_count=0, seed=seed)
        self._done = False
        return EchoObservation(greeting=greeting, metadata=self.base_metadata())

    def step(self, action: EchoAction, timeout_s: float | None = None) -> EchoObservation:
        """Echo the message back and score it."""
        delay = self._check(action)
        if delay:
            time.sleep(delay)
        return self._apply(action)

    def _check(self, action: EchoAction) -> float:
        """Refuse steps after done, crash on request; returns how long to sleep (0 for none)."""
        if self._done:
            raise EnvError(ErrorCode.EPISODE_DONE, "the episode is over; reset to start a new one")
        if self.crash_on is not None and action.message == self.crash_on:
            raise RuntimeError("echo was asked to crash")
        if self.sleep_on and action.message.startswith("sleep:"):
            try:
                return float(action.message.split(":", 1)[1])
            except ValueError:
                raise EnvError(
                    ErrorCode.VALIDATION_ERROR, f"message {action.message!r}: expected sleep:<seconds>"
                ) from None
        return self.step_delay_s

    def _apply(self, action: EchoAction) -> EchoObservation:
        self._state.step_count += 1
        weight = self.reward_config.weights.get("length", 0.0)
        component = float(len(action.message))
        self._done = self._state.step_count >= self.max_steps
        meta = self.base_metadata()
        meta["reward_components"] = {"length": component}
        meta["reward_weights"] = {"length": weight}
        return EchoObservation(
            message=action.message, reward=weight * component, done=self._done, metadata=meta
        )

    @property
    def state(self) -> EchoState:
        """Current episode state."""
        return self._state


class EchoEnvironment(SyncEchoEnvironment):
    """The reference echo environment, with non-blocking async variants (run on a server's event loop).

    Args:
        max_steps: Steps after which the episode is done.
        crash_on: A message that makes ``step`` raise (to test that a crashing env never takes a server down).
        sleep_on: A message prefix ``sleep:<seconds>`` makes ``step`` sleep that long (to test timeouts).
        step_delay_s: Seconds every ``step`` takes (to keep episodes in flight in fault tests).
    """

    name = "echo"

    async def reset_async(
        self, seed: int | None = None, episode_id: str | None = None, **task: Any
    ) -> EchoObservation:
        """Same as :meth:`reset`; it never blocks, so servers may await it on their event loop."""
        return self.reset(seed=seed, episode_id=episode_id, **task)

    async def step_async(self, action: EchoAction, timeout_s: float | None = None) -> EchoObservation:
        """Same as :meth:`step`, sleeping with ``asyncio.sleep`` so it never blocks an event loop."""
        delay = self._check(action)
        if delay:
            await asyncio.sleep(delay)
        return self._apply(action)

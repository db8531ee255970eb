"""The environment contract: reset/step/state/close, one instance = one trajectory.

An :class:`Environment` is driven by an orchestrator (a server session, a rollout engine), never by the agent:
reset, step, state, close and config changes are orchestrator operations. Rewards are computed inside the
environment (by its rubric) and arrive on the observations it returns.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Generic

from pydantic import BaseModel, Field

from ._types import Action, ActT, Observation, ObsT, State


class EnvMetadata(BaseModel):
    """What ``GET /metadata`` reports about an environment type.

    Attributes:
        name: Registered id of the environment (e.g. ``echo``).
        description: One line on what it is.
        version: Version of the environment code.
        supports_seed: False when a seed cannot determine the episode (then it is never silently ignored:
            the observation metadata says ``seed_honoured: false``).
        tools: Names of agent-facing tools served on ``/mcp`` (empty for plain step-based envs).
        extra: Anything else an environment wants to advertise.
    """

    name: str
    description: str = ""
    version: str = "0.0.0"
    supports_seed: bool = True
    tools: list[str] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)


class Environment(ABC, Generic[ActT, ObsT]):
    """Base class of every environment.

    Subclasses set the class attributes and implement :meth:`reset`, :meth:`step` and :attr:`state`.

    Class attributes:
        name: Registered id.
        action_type: The pydantic :class:`Action` subclass ``step`` accepts.
        observation_type: The pydantic :class:`Observation` subclass it returns.
        state_type: The :class:`State` subclass ``state`` returns.
        config_type: The reward-config dataclass (with ``schema_version``), or None if it has none.
        supports_seed: Whether a seed determines the episode.

    The orchestrator calls :meth:`configure` with the effective reward config and its version right before
    each :meth:`reset`; subclasses read ``self.reward_config`` and put ``self.config_version`` into
    observation metadata (use :meth:`base_metadata`).
    """

    name: ClassVar[str] = "environment"
    description: ClassVar[str] = ""
    version: ClassVar[str] = "0.1.0"
    action_type: ClassVar[type[Action]] = Action
    observation_type: ClassVar[type[Observation]] = Observation
    state_type: ClassVar[type[State]] = State
    config_type: ClassVar[type | None] = None
    supports_seed: ClassVar[bool] = True

    def __init__(self) -> None:
        self.reward_config: Any = self.config_type() if self.config_type is not None else None
        self.config_version: int = 0

    def configure(self, config: Any, version: int) -> None:
        """Install the reward config for the next episode (called by the orchestrator before reset).

        Args:
            config: An instance of :attr:`config_type` (treated as immutable).
            version: The server's ``config_version`` it corresponds to.
        """
        self.reward_config = config
        self.config_version = version

    @abstractmethod
    def reset(self, seed: int | None = None, episode_id: str | None = None, **task: Any) -> ObsT:
        """Start a new episode and return its first observation.

        Args:
            seed: Determines the episode (same seed and task give the same first observation).
            episode_id: Identifier to record; generated if None.
            **task: Task selection / parameters (e.g. ``split``, ``index`` for dataset-bound envs).
        """

    @abstractmethod
    def step(self, action: ActT, timeout_s: float | None = None) -> ObsT:
        """Apply one action and return the resulting observation (with reward).

        Args:
            action: A validated instance of :attr:`action_type`.
            timeout_s: Budget for this step; environments that run programs pass it on, the server also
                enforces it from outside.
        """

    @property
    @abstractmethod
    def state(self) -> State:
        """The episode state (episode id, step count, env-specific fields)."""

    def close(self) -> None:  # noqa: B027 - optional hook, default does nothing
        """Release resources. Called once when the session ends."""

    def base_metadata(self) -> dict[str, Any]:
        """Metadata every observation should carry: the config version and whether seeds are honoured."""
        return {"config_version": self.config_version, "seed_honoured": self.supports_seed}

    @classmethod
    def metadata(cls) -> EnvMetadata:
        """Static description of this environment type (served at ``/metadata``)."""
        return EnvMetadata(
            name=cls.name, description=cls.description, version=cls.version, supports_seed=cls.supports_seed
        )

    @classmethod
    def schemas(cls) -> dict[str, Any]:
        """JSON schemas of action, observation, state and reward config (served at ``/schema``)."""
        from pydantic import TypeAdapter

        out: dict[str, Any] = {
            "action": cls.action_type.model_json_schema(),
            "observation": cls.observation_type.model_json_schema(),
            "state": cls.state_type.model_json_schema(),
        }
        if cls.config_type is not None and dataclasses.is_dataclass(cls.config_type):
            out["config"] = TypeAdapter(cls.config_type).json_schema()
        return out

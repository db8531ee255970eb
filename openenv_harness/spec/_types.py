"""Typed actions, observations and state, and their OpenEnv-compatible wire form.

Environments subclass :class:`Action`, :class:`Observation` and (optionally) :class:`State` with their own
fields. The wire form of an observation is OpenEnv's: the environment-specific fields go under
``observation``, while ``reward``, ``done`` and ``metadata`` sit beside it. ``metadata`` is never dropped.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

_RESERVED_OBS_FIELDS = ("done", "reward", "metadata")


class Action(BaseModel):
    """Base class of an agent action. Unknown fields are rejected so typos fail loudly."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Observation(BaseModel):
    """Base class of what an environment returns from ``reset`` and ``step``.

    Attributes:
        done: True once the episode has ended; further steps are refused until the next reset.
        reward: The scalar to optimise for the step that produced this observation (None after reset).
        metadata: Free-form data that always travels with the observation: reward components and weights,
            ``config_version``, task id, timings.
    """

    model_config = ConfigDict(extra="forbid")

    done: bool = False
    reward: float | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class State(BaseModel):
    """Episode state visible to the orchestrator (never to the agent as a tool).

    Attributes:
        episode_id: Identifier of the current episode (None before the first reset).
        step_count: Steps taken in the current episode.
    """

    model_config = ConfigDict(extra="allow")

    episode_id: str | None = None
    step_count: int = 0


ObsT = TypeVar("ObsT", bound=Observation)
ActT = TypeVar("ActT", bound=Action)
StateT = TypeVar("StateT", bound=State)


def observation_to_wire(obs: Observation) -> dict[str, Any]:
    """Serialise an observation to the ``data`` object of an OpenEnv ``observation`` frame.

    Args:
        obs: The observation to serialise.

    Returns:
        ``{"observation": {env fields}, "reward": r, "done": d, "metadata": {...}}``.
    """
    fields = obs.model_dump(mode="json", exclude=set(_RESERVED_OBS_FIELDS))
    return {"observation": fields, "reward": obs.reward, "done": obs.done, "metadata": obs.metadata}


def observation_from_wire(data: dict[str, Any], observation_type: type[ObsT]) -> ObsT:
    """Rebuild a typed observation from the ``data`` object of an ``observation`` frame.

    Extra fields that the local type does not know are kept when the type allows it, otherwise dropped:
    a newer server may add fields without breaking an older client.

    Args:
        data: The frame's ``data`` object.
        observation_type: The observation class to build.

    Returns:
        The typed observation.
    """
    fields = dict(data.get("observation") or {})
    known = observation_type.model_fields
    if observation_type.model_config.get("extra") == "forbid":
        fields = {k: v for k, v in fields.items() if k in known}
    fields["reward"] = data.get("reward")
    fields["done"] = bool(data.get("done", False))
    fields["metadata"] = dict(data.get("metadata") or {})
    # The compiled validator directly (what model_validate calls): it is on every step of every rollout.
    obs: ObsT = observation_type.__pydantic_validator__.validate_python(fields)
    return obs


class GenericObservation(Observation):
    """An observation that keeps whatever fields the server sent (used when the type is unknown)."""

    model_config = ConfigDict(extra="allow")


class GenericAction(Action):
    """An action that accepts any fields (used by clients that do not know the server's action type)."""

    model_config = ConfigDict(extra="allow")

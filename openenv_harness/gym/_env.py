"""Any environment (a local instance, a registered id, or a client of a remote server) as a ``gymnasium.Env``.

Spaces are text (``gymnasium.spaces.Text`` over printable ASCII):

- **Observation**: the JSON of the observation's own fields (``sort_keys``, ASCII-escaped, so it always fits
  the charset), without ``reward``/``done``/``metadata`` (those become the step's reward, ``terminated`` and
  ``info``) and without volatile fields (``duration_s``, ``episode_id``), which would make equal episodes differ.
  Parse it with ``json.loads``. A JSON string was chosen over a ``Dict`` space because observations of
  different envs have arbitrary nested fields that no fixed ``Dict`` of spaces can describe.
- **Action**: text. A JSON object (``'{"code": "print(1)", "submit": true}'``) gives the action's fields;
  any other text fills the action's first required string field (``answer`` for arith, ``code`` for
  coding, ``message`` for echo), so a language model's raw completion is a valid action.

``terminated`` is the observation's ``done``; ``truncated`` is True only when ``max_episode_steps`` (given
to this class) ends the episode first. ``info`` holds the observation metadata (reward components and
weights, ``config_version``, task id) minus volatile timings. ``env.unwrapped.last_observation`` keeps the
full typed observation.
"""

from __future__ import annotations

import copy
import json
import string
from typing import Any, Literal, SupportsFloat

import gymnasium
from gymnasium import spaces
from pydantic import ValidationError

from ..spec import Action, EnvError, Environment, ErrorCode, Observation, make

CHARSET = frozenset(string.printable)
"""Characters of both spaces (JSON is ASCII-escaped, so any observation fits)."""
VOLATILE = frozenset({"duration_s", "timings", "elapsed_s", "episode_id", "session_id"})
"""Fields and metadata keys left out of observations and info: they differ between otherwise equal episodes."""


def _primary_text_field(action_type: type[Action]) -> str | None:
    """The first required ``str`` field of an action type (raw text actions fill it)."""
    for name, info in action_type.model_fields.items():
        if info.is_required() and info.annotation is str:
            return name
    return None


class OpenEnvGym(gymnasium.Env[str, str]):
    """A ``gymnasium.Env`` over an openenv_harness environment or client.

    Args:
        env: A registered id (``"arith"``), an Environment instance, or a client (``EnvClient`` or an
            in-process client) of a served environment.
        env_kwargs: Constructor arguments when ``env`` is an id (and no ``url`` is given).
        url: With an id: drive the server at this URL over WS instead of a local instance
            (``gymnasium.make("openenv_harness/Coding-v0", url="http://127.0.0.1:8000")``).
        reset_kwargs: Task arguments passed to every reset (``options`` of ``reset`` add to them).
        max_action_length: ``max_length`` of the action space.
        max_observation_length: ``max_length`` of the observation space (longer observations are an error).
        max_episode_steps: Steps after which the episode is truncated (None: the env decides alone).
        invalid_action: ``"feedback"`` (default): an action that cannot be parsed or that the environment
            refuses as invalid (``VALIDATION_ERROR``) gives reward 0, leaves the episode where it was, repeats
            the last observation and explains in ``info["invalid_action"]`` (a policy's malformed output is
            an outcome to learn from, not a crash). ``"raise"``: raise instead.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        env: str | Environment[Any, Any] | Any = "echo",
        env_kwargs: dict[str, Any] | None = None,
        url: str | None = None,
        reset_kwargs: dict[str, Any] | None = None,
        max_action_length: int = 8192,
        max_observation_length: int = 1_000_000,
        max_episode_steps: int | None = None,
        invalid_action: Literal["feedback", "raise"] = "feedback",
    ) -> None:
        if invalid_action not in ("feedback", "raise"):
            raise ValueError(f"invalid_action must be 'feedback' or 'raise', got {invalid_action!r}")
        self.invalid_action = invalid_action
        if isinstance(env, str) and url is not None:
            if env_kwargs:
                raise ValueError("env_kwargs cannot apply to a remote server (url=): configure the server")
            from ..client import client_for

            env = client_for(env, url)
        elif isinstance(env, str):
            env = make(env, **(env_kwargs or {}))
        elif env_kwargs or url is not None:
            raise ValueError("env_kwargs and url only apply when env is a registered id")
        self.inner = env
        self._is_local = isinstance(env, Environment)
        self.action_type: type[Action] = getattr(env, "action_type", Action)
        self.observation_type: type[Observation] = getattr(env, "observation_type", Observation)
        self._text_field = _primary_text_field(self.action_type)
        self.reset_kwargs = dict(reset_kwargs or {})
        self.max_episode_steps = max_episode_steps
        self.action_space = spaces.Text(max_length=max_action_length, min_length=0, charset=CHARSET)
        self._max_obs_len = max_observation_length
        self.observation_space = spaces.Text(max_length=max_observation_length, min_length=0, charset=CHARSET)
        self.last_observation: Observation | None = None
        self._steps = 0

    def _encode(self, obs: Observation) -> str:
        fields = obs.model_dump(mode="json", exclude={"reward", "done", "metadata", *VOLATILE})
        text = json.dumps(fields, sort_keys=True, ensure_ascii=True)
        if len(text) > self._max_obs_len:
            raise ValueError(
                f"observation is {len(text)} characters, over max_observation_length={self._max_obs_len}"
            )
        return text

    @staticmethod
    def _info(obs: Observation) -> dict[str, Any]:
        # A deep copy: callers keep what they are handed, and nested values must never be shared between calls.
        return copy.deepcopy({k: v for k, v in obs.metadata.items() if k not in VOLATILE})

    def parse_action(self, action: str) -> dict[str, Any]:
        """The action fields a text action stands for (see the module docstring).

        Raises:
            ValueError: when the text is neither a JSON object nor usable as the primary text field.
        """
        if not isinstance(action, str):
            raise TypeError(f"actions are text, got {type(action).__name__}")
        stripped = action.strip()
        if stripped.startswith("{"):
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError:
                value = None
            if isinstance(value, dict):
                return value
        if self._text_field is None:
            raise ValueError(
                f"{self.action_type.__name__} has no required text field: send the action as a JSON object"
            )
        return {self._text_field: action}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start an episode; an unseeded reset draws its seed from ``np_random`` (seeded by the last seed)."""
        super().reset(seed=seed)
        env_seed = seed if seed is not None else int(self.np_random.integers(0, 2**31 - 1))
        kwargs = {**self.reset_kwargs, **(options or {})}
        obs = self.inner.reset(seed=env_seed, **kwargs)
        self.last_observation = obs
        self._steps = 0
        return self._encode(obs), self._info(obs)

    def step(self, action: str) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        """Apply a text action; returns ``(observation, reward, terminated, truncated, info)``."""
        if self.last_observation is None:
            raise EnvError(ErrorCode.NOT_RESET, "call reset() before step()")
        self._steps += 1
        try:
            fields = self.parse_action(action)
            if self._is_local:
                try:
                    typed = self.action_type.model_validate(fields)
                except ValidationError as exc:
                    raise EnvError(
                        ErrorCode.VALIDATION_ERROR, f"invalid action: {exc.errors()[0]['msg']}"
                    ) from None
                obs = self.inner.step(typed)
            else:
                obs = self.inner.step(fields)
        except (ValueError, TypeError, EnvError) as exc:
            if self.invalid_action == "raise" or (
                isinstance(exc, EnvError) and exc.code != ErrorCode.VALIDATION_ERROR
            ):
                raise
            info = {**self._info(self.last_observation), "invalid_action": str(exc)}
            return self._encode(self.last_observation), 0.0, False, self._truncated(False), info
        self.last_observation = obs
        reward = float(obs.reward) if obs.reward is not None else 0.0
        return self._encode(obs), reward, bool(obs.done), self._truncated(bool(obs.done)), self._info(obs)

    def _truncated(self, done: bool) -> bool:
        return not done and self.max_episode_steps is not None and self._steps >= self.max_episode_steps

    def close(self) -> None:
        """Close the wrapped environment or client."""
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()
        super().close()

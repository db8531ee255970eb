"""What a session needs to know about an environment's methods, and how their results go on the wire.

Kept apart from :mod:`._session` (the episode life cycle) because none of it depends on session state:
introspecting ``reset``/``step`` once per instance, checking reset arguments against that signature, turning
an observation into its wire dict, and wrapping an environment's own exception as ``ENV_ERROR``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

from openenv_harness.spec import EnvError, ErrorCode, Observation


def async_variant(env: Any, name: str) -> Callable[..., Any] | None:
    """``env.<name>`` when it is a coroutine function (awaited on the loop), else None (run on the pool)."""
    method = getattr(env, name, None)
    return method if method is not None and inspect.iscoroutinefunction(method) else None


def _accepts_var_kwargs(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins without signatures: let the call decide
        return True
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def reset_params(fn: Callable[..., Any]) -> frozenset[str] | None:
    """Named parameters ``reset`` accepts, or None if it takes ``**kwargs`` (anything goes)."""
    if _accepts_var_kwargs(fn):
        return None
    return frozenset(inspect.signature(fn).parameters)


def check_reset_kwargs(kwargs: Any, params: frozenset[str] | None, env_name: str) -> dict[str, Any]:
    """Validate reset arguments before they reach the environment.

    Args:
        kwargs: The ``data`` of a reset frame or request (None means no arguments).
        params: What :func:`reset_params` found for this environment's reset.
        env_name: The environment's class name, for the error message.

    Returns:
        The arguments to pass to ``reset``.

    Raises:
        EnvError: ``VALIDATION_ERROR`` naming the bad field.
    """
    if kwargs is None:
        return {}
    if not isinstance(kwargs, dict):
        raise EnvError(ErrorCode.VALIDATION_ERROR, f"reset: arguments must be a JSON object, not {kwargs!r}")
    seed = kwargs.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise EnvError(ErrorCode.VALIDATION_ERROR, f"reset.seed: must be an integer or null, got {seed!r}")
    episode_id = kwargs.get("episode_id")
    if episode_id is not None and not isinstance(episode_id, str):
        raise EnvError(
            ErrorCode.VALIDATION_ERROR, f"reset.episode_id: must be a string or null, got {episode_id!r}"
        )
    if params is not None:
        unknown = sorted(set(kwargs) - params)
        if unknown:
            raise EnvError(
                ErrorCode.VALIDATION_ERROR,
                f"reset: unknown argument(s) {', '.join(unknown)}; {env_name}.reset accepts "
                f"{', '.join(sorted(params - {'self'}))}",
                {"field": f"reset.{unknown[0]}"},
            )
    return kwargs


_RESERVED = {"done", "reward", "metadata"}


def to_wire(obs: Observation) -> dict[str, Any]:
    """Exactly :func:`openenv_harness.spec.observation_to_wire`, in half the time.

    It calls the model's serializer directly with a prebuilt exclude set instead of going through
    ``model_dump`` (whose Python wrapper and per-call set cost ~1.5 us, a tenth of our per-step budget).
    ``tests/unit/server`` checks that both give the same result.
    """
    fields = obs.__pydantic_serializer__.to_python(obs, mode="json", exclude=_RESERVED)
    return {"observation": fields, "reward": obs.reward, "done": obs.done, "metadata": obs.metadata}


def result_to_wire(obs: Any, what: str) -> dict[str, Any]:
    """:func:`to_wire` for what ``reset``/``step`` returned.

    Raises:
        EnvError: ``ENV_ERROR`` for anything but an Observation; ``REWARD_NOT_FINITE`` for a reward that
            overflowed to inf or is NaN (JSON has no such numbers: it would reach the client as ``null``, which
            means "no reward" -- a correct answer scored as nothing).
    """
    if not isinstance(obs, Observation):
        raise EnvError(ErrorCode.ENV_ERROR, f"{what} returned {type(obs).__name__}, expected an Observation")
    reward = obs.reward
    if reward is not None and not math.isfinite(reward):
        meta = obs.metadata if isinstance(obs.metadata, dict) else {}
        raise EnvError(
            ErrorCode.REWARD_NOT_FINITE,
            f"the {what} reward is {reward} (numeric overflow: check the reward weights and components); "
            "the episode is abandoned, reset to start a new one",
            {
                "reward_weights": _finite_only(meta.get("reward_weights")),
                "reward_components": _finite_only(meta.get("reward_components")),
            },
        )
    return to_wire(obs)


def _finite_only(values: Any) -> dict[str, Any] | None:
    """A weights/components mapping with non-finite numbers as strings (so the error itself encodes)."""
    if not isinstance(values, dict):
        return None
    return {
        str(k): (v if not isinstance(v, float) or math.isfinite(v) else str(v)) for k, v in values.items()
    }


def env_error(what: str, exc: Exception) -> EnvError:
    """The ``ENV_ERROR`` reported for an exception the environment's own code raised in ``what``."""
    return EnvError(
        ErrorCode.ENV_ERROR, f"{what} raised {type(exc).__name__}: {exc}", {"exception": type(exc).__name__}
    )

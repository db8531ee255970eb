"""Config checks against the environment itself, before any server starts.

Hydra type-checks the harness's own schema at composition, but ``env.kwargs``, ``rubric.weights``/``overrides``
and ``schedule.targets`` are free-form there: what they may hold is declared by the environment (its
constructor's signature, its reward ``config_type``). A mistake in them used to surface only after the servers
started (a server that exits, a ``CONFIG_INVALID`` traceback on the first ``POST /config``) or not at all (a
``difficulty=abc`` that errored every episode and exited 0). These checks import the env class from the
registry (no server, no instance) and validate the same way the server would: kwargs by the constructor's
declaration (annotated types and ``Annotated[..., Field(ge=..., le=...)]`` bounds, pydantic lax), reward updates through a fresh :class:`~openenv_harness.spec.ConfigHolder`.
Each failure is a :class:`ConfigError` whose message starts with the offending key.

Envs that are not registered here (foreign envs behind ``env.url``) are not checked: their servers are the
only authority, and they answer a bad ``/config`` with a coded error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ..spec import ConfigHolder, EnvError, InitKwargError, check_init_kwargs, spec
from ._secrets import ConfigError

RESERVED_KWARGS = frozenset({"rubric"})
"""Constructor arguments the harness itself adds (the rubric tree of ``rubric=judge``), never the user."""


def env_class(env_id: str) -> type | None:
    """The registered env class of ``env_id``, or None for an id this process does not know."""
    try:
        return spec(env_id).load()
    except (KeyError, ImportError):
        return None


def check_env_kwargs(env_id: str, kwargs: Mapping[str, Any], key: str = "env.kwargs") -> None:
    """Refuse constructor arguments ``env_id`` does not take, or values its declaration rejects.

    What an env accepts is its constructor's signature: names, annotated types and ``Annotated[..., Field(...)]``
    bounds (see :func:`~openenv_harness.spec.check_init_kwargs`).

    Raises:
        ConfigError: ``<key>.<name>: ...``.
    """
    cls = env_class(env_id)
    if cls is None or not kwargs:
        return
    try:
        check_init_kwargs(cls, kwargs, skip=RESERVED_KWARGS)
    except InitKwargError as exc:
        if exc.takes:
            takes = ", ".join(exc.takes) or "none"
            why = f"env {env_id!r} takes no argument {exc.name!r} (it takes: {takes})"
        else:
            why = f"{exc.value} is not valid for env {env_id!r} ({exc.detail})"
        raise ConfigError(f"{key}.{exc.name}: {why}") from None


def check_reward_update(env_id: str, update: Mapping[str, Any], key_of: Callable[[str], str]) -> None:
    """Refuse a reward-config update the env's ``config_type`` does not accept (as ``POST /config`` would).

    Args:
        env_id: The env whose reward config it is.
        update: A partial reward config (``{"weights": {...}, ...}``).
        key_of: Maps a dotted path of ``update`` (``weights.bogus``) to the config key to name.

    Raises:
        ConfigError: ``<key>: ...`` (for an unknown weight, with the env's reward components).
    """
    cls = env_class(env_id)
    if cls is None or not update:
        return
    config_type = getattr(cls, "config_type", None)
    if config_type is None:
        first = next(iter(update))
        raise ConfigError(f"{key_of(first)}: env {env_id!r} has no reward config to override")
    holder = ConfigHolder(config_type)
    try:
        holder.update(dict(update))
    except EnvError as exc:
        field = str(exc.details.get("field") or next(iter(update)))
        message = exc.message.removeprefix(f"{field}: ")  # the key is named once, as the config spells it
        components = getattr(holder.get()[0], "weights", None)
        if field.startswith("weights.") and isinstance(components, dict) and "unknown" in message:
            message = f"not a reward component of env {env_id!r} (its components: {', '.join(components)})"
        raise ConfigError(f"{key_of(field)}: {message}") from None


def _nest(path: str, value: Any) -> dict[str, Any]:
    out: Any = value
    for part in reversed(path.split(".")):
        out = {part: out}
    return dict(out)


def _fixed(key: str) -> Callable[[str], str]:
    """A ``key_of`` that names one key whatever the path (a schedule target is one key)."""
    return lambda _path: key


def _plain(node: Any) -> dict[str, Any]:
    if isinstance(node, DictConfig):
        return dict(OmegaConf.to_container(node, resolve=True) or {})  # type: ignore[arg-type]
    return dict(node or {})


def check_run_config(cfg: DictConfig, where: str = "") -> None:
    """Check a composed run config's ``env.kwargs``, rubric weights/overrides and schedule targets.

    Args:
        cfg: The composed config (or one env's sub-config of a mixture).
        where: Prefix of every message (``"mixture arith: "``).

    Raises:
        ConfigError: naming the first offending key.
    """
    env_id = str(cfg.env.id)
    try:
        if cfg.env.get("url"):
            return  # a server someone else runs is the authority on its own kwargs and config
        if str(cfg.runtime.get("provider")) != "remote":  # remote servers are started with their own kwargs
            check_env_kwargs(env_id, _plain(cfg.env.get("kwargs")))
        rubric = cfg.get("rubric")
        if rubric is not None and not rubric.get(
            "_target_"
        ):  # a custom rubric tree defines its own components
            weights, overrides = _plain(rubric.get("weights")), _plain(rubric.get("overrides"))
            update = dict(overrides)
            if weights:
                update["weights"] = {**dict(update.get("weights") or {}), **weights}

            def key_of(path: str) -> str:
                head, _, name = path.partition(".")
                return (
                    f"rubric.weights.{name}"
                    if head == "weights" and name in weights
                    else f"rubric.overrides.{path}"
                )

            check_reward_update(env_id, update, key_of)
        for path in _plain(cfg.schedule.get("targets") if cfg.get("schedule") else None):
            check_reward_update(env_id, _nest(path, 1.0), _fixed(f"schedule.targets.{path}"))
    except ConfigError as exc:
        raise ConfigError(f"{where}{exc}") from None

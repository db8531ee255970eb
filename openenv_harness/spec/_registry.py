"""A Gymnasium-style registry of environment types: ids map to lazily imported ``module:Class`` paths.

Shipped environments are declared as ``openenv_harness.envs`` entry points in ``pyproject.toml`` (so the
framework never imports ``envs/`` directly); users can :func:`register` their own at run time. Entry points
are only imported when an id is asked for, which keeps server start-up fast.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from ._env import Environment

RESERVED_TOOL_NAMES = frozenset({"reset", "step", "state", "close", "configure", "config"})
"""Orchestrator operations that may never be exposed as agent tools."""

_ENTRY_POINT_GROUP = "openenv_harness.envs"
ALLOWED_TARGET_PREFIXES = ("openenv_harness.", "envs.", "rubrics.")
"""Import prefixes that config ``_target_`` / ``entry_point`` values may name."""


@dataclass(frozen=True)
class EnvSpec:
    """One registered environment type.

    Attributes:
        id: The registered id (e.g. ``echo``).
        entry_point: ``"package.module:ClassName"``.
        kwargs: Default constructor keyword arguments.
        adapter: ``"module:ATTR"`` of the env's text adapter for the harness (None: the ``ADAPTER`` of the
            ``adapter`` module beside the env, else the generic adapter built from its schema).
    """

    id: str
    entry_point: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    adapter: str | None = None

    def load(self) -> type[Environment[Any, Any]]:
        """Import and return the environment class."""
        return load_entry_point(self.entry_point)


_registry: dict[str, EnvSpec] = {}


def check_target(path: str) -> None:
    """Refuse an import path outside the allow-listed packages.

    Args:
        path: ``module:attr`` or dotted ``module.attr`` path.

    Raises:
        ValueError: if the path is outside :data:`ALLOWED_TARGET_PREFIXES`.
    """
    module = path.replace(":", ".")
    if not module.startswith(ALLOWED_TARGET_PREFIXES):
        raise ValueError(
            f"refusing to import {path!r}: targets must live in one of {', '.join(ALLOWED_TARGET_PREFIXES)} "
            "(register your own environment with openenv_harness.register and an allowed module, or add "
            "your package to ALLOWED_TARGET_PREFIXES explicitly)"
        )


def load_entry_point(entry_point: str) -> Any:
    """Import ``"module:attr"`` (or ``"module.attr"``) and return the attribute."""
    if ":" in entry_point:
        module_name, attr = entry_point.split(":", 1)
    else:
        module_name, _, attr = entry_point.rpartition(".")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ImportError(
            f"{module_name!r} has no attribute {attr!r} (entry point {entry_point!r})"
        ) from None


def register(id: str, entry_point: str, *, adapter: str | None = None, **kwargs: Any) -> None:
    """Register an environment type under ``id``.

    Args:
        id: Id to register (re-registering replaces the old entry).
        entry_point: ``"module:Class"``; imported lazily by :func:`make`.
        adapter: ``"module:ATTR"`` of its harness adapter (see :class:`EnvSpec`).
        **kwargs: Default constructor arguments.
    """
    _registry[id] = EnvSpec(id=id, entry_point=entry_point, kwargs=dict(kwargs), adapter=adapter)


def _discover() -> None:
    for ep in entry_points(group=_ENTRY_POINT_GROUP):
        _registry.setdefault(ep.name, EnvSpec(id=ep.name, entry_point=ep.value))


def spec(id: str) -> EnvSpec:
    """Return the :class:`EnvSpec` for ``id``.

    Raises:
        KeyError: naming the known ids when ``id`` is not registered.
    """
    if id not in _registry:
        _discover()
    if id not in _registry:
        raise KeyError(f"unknown environment {id!r}; registered: {', '.join(sorted(registered())) or 'none'}")
    return _registry[id]


def registered() -> list[str]:
    """Ids of every registered (or installed) environment type."""
    _discover()
    return sorted(_registry)


def make(id: str, **kwargs: Any) -> Environment[Any, Any]:
    """Instantiate a registered environment: ``make("echo", max_steps=3)``."""
    s = spec(id)
    return s.load()(**{**s.kwargs, **kwargs})

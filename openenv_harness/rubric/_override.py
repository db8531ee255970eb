"""A rubric chosen by config in place of an env's own (``rubric=judge`` and any ``rubric`` with a ``_target_``).

The harness passes the rubric tree to the env servers as the reserved env argument ``rubric`` (a mapping with a
``_target_``); the server builds it once per session with :func:`build_rubric` (allow-listed targets only) and
installs it with :func:`install_rubric`, so rewards are still computed **inside the environment**, on every
observation, with per-component scores in the metadata.

The env keeps calling ``self.rubric.score(action, obs, weights=<its reward config's weights>)``; the override
scores with the configured tree and **its own** weights instead (the env's weights name the env's components,
not the judge's), so ``reward_components``/``reward_weights`` on the observation describe what was really
computed. ``POST /config`` weight pushes therefore do not steer an overriding rubric (documented limitation).
A component that fails (an unreachable judge) gives ``reward=None`` (the rubric's ``reward_errors``), which the
harness counts as an error, never a zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._base import Rubric
from ._build import _plain, build_rubric

RUBRIC_KWARG = "rubric"
"""Reserved env argument carrying a rubric tree (``{_target_: ..., **params}``) for :func:`install_rubric`."""


class RubricOverride:
    """Stands in for an env's ``self.rubric``: scores with ``rubric`` and its default weights.

    Every other attribute (``reset``, ``context``, ``reward_components`` ...) is the wrapped rubric's.
    """

    def __init__(self, rubric: Rubric) -> None:
        self.inner = rubric
        self.weights = dict(rubric.default_weights())

    def score(
        self, action: Any, observation: Any, weights: Mapping[str, float] | None = None, **kw: Any
    ) -> Any:
        """Score with the override's own weights (the env's are for its own components)."""
        return self.inner.score(action, observation, weights=self.weights, **kw)

    async def ascore(
        self, action: Any, observation: Any, weights: Mapping[str, float] | None = None, **kw: Any
    ) -> Any:
        """Async :meth:`score`."""
        return await self.inner.ascore(action, observation, weights=self.weights, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def rubric_tree(rubric_cfg: Any) -> dict[str, Any] | None:
    """The tree a ``rubric`` config group asks the env to use, or None when it keeps the env's own.

    The tree is built once here (no network: a judge only connects when it scores) so that a bad target fails
    before any server starts.

    Raises:
        openenv_harness.rubric.RubricError: naming the offending target.
    """
    target = (
        rubric_cfg.get("_target_")
        if isinstance(rubric_cfg, Mapping)
        else getattr(rubric_cfg, "_target_", None)
    )
    if not target:
        return None
    params = (
        rubric_cfg.get("params") if isinstance(rubric_cfg, Mapping) else getattr(rubric_cfg, "params", None)
    )
    tree = {"_target_": str(target), **_plain(params or {})}
    build_rubric(tree)
    return tree


def install_rubric(env: Any, tree: Mapping[str, Any]) -> Any:
    """Build ``tree`` and make it ``env``'s rubric; returns the env.

    Raises:
        TypeError: the env has no ``rubric`` attribute to replace (it does not score with a rubric).
        openenv_harness.rubric.RubricError: the tree cannot be built (naming the target).
    """
    if not hasattr(env, "rubric"):
        raise TypeError(
            f"{type(env).__name__} does not score with a rubric; it cannot take a rubric= override"
        )
    env.rubric = RubricOverride(build_rubric(dict(tree)))
    return env

"""From config to rubrics and reward-config updates: allow-listed instantiation, the env config convention.

Two things come out of a ``conf/rubric/*.yaml`` (schema: ``openenv_harness.config.RubricConfig``):

* :func:`config_update` — the partial reward config pushed to env servers with ``POST /config``
  (``overrides`` with ``weights`` merged in; empty = keep the env's defaults);
* :func:`build_rubric` — a rubric tree from ``_target_`` (+ ``params``), for trainer-side scoring, offline
  re-scoring or environments that accept a rubric. Every ``_target_`` in the tree is checked against the
  allowed packages (:func:`openenv_harness.spec.check_target`) **before** anything is imported, then resolved
  by registration (:func:`openenv_harness.spec.resolve_target`: a ``Rubric`` subclass, a function declared to
  return one, or an exact name given to ``allow_target``), never through a module's attributes. The tree is
  built here rather than by Hydra's ``instantiate``, which would resolve the strings again its own way.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openenv_harness.spec import check_target, resolve_target

from ._base import Rubric
from ._config import RubricError


def _plain(cfg: Any) -> Any:
    """A DictConfig / dataclass / mapping as plain Python containers."""
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf
    except ImportError:  # pragma: no cover - omegaconf is a core dependency
        DictConfig = ListConfig = ()  # type: ignore[assignment,misc]
    if isinstance(cfg, DictConfig | ListConfig):
        return OmegaConf.to_container(cfg, resolve=True)
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        return dataclasses.asdict(cfg)
    return copy.deepcopy(cfg)


def _check_targets(node: Any, path: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if key == "_target_":
                if not isinstance(value, str):
                    raise RubricError(f"{where}: must be an import path string, got {value!r}")
                try:
                    check_target(value)
                except ValueError as exc:
                    raise RubricError(f"{where}: {exc}") from None
            else:
                _check_targets(value, where)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _check_targets(value, f"{path}[{i}]")


_HYDRA_KEYS = frozenset({"_args_", "_partial_", "_recursive_", "_convert_"})


def _instantiate(node: Any, path: str) -> Any:
    """Build every ``{_target_: ..., **kwargs}`` mapping in ``node``, children first (plain containers stay)."""
    if isinstance(node, list):
        return [_instantiate(v, f"{path}[{i}]") for i, v in enumerate(node)]
    if not isinstance(node, dict):
        return node
    special = sorted(_HYDRA_KEYS & set(node))
    if special:
        raise RubricError(f"{path or 'rubric'}: {', '.join(special)} is not supported in a rubric tree")
    kwargs = {
        k: _instantiate(v, f"{path}.{k}" if path else str(k)) for k, v in node.items() if k != "_target_"
    }
    if "_target_" not in node:
        return kwargs
    target = node["_target_"]
    where = f"{path}._target_" if path else "_target_"
    try:
        factory = resolve_target(target, Rubric)
    except ValueError as exc:
        raise RubricError(f"{where}: {exc}") from None
    except ImportError as exc:
        raise RubricError(f"cannot build rubric {target}: {exc}") from exc
    try:
        return factory(**kwargs)
    except Exception as exc:
        detail = str(exc) if isinstance(exc, RubricError) else f"{type(exc).__name__}: {exc}"
        raise RubricError(f"cannot build rubric {target}: {detail}") from exc


def build_rubric(cfg: Any) -> Rubric:
    """Instantiate a rubric tree from config, refusing targets outside the allow-list.

    Args:
        cfg: Either a tree ``{_target_: rubrics.match.ExactMatch, **params}`` (children are nested trees) or a
            rubric group config ``{name, _target_, params, ...}`` (``params`` are the constructor arguments).

    Returns:
        The rubric.

    Raises:
        RubricError: for a missing or disallowed ``_target_`` (naming its config path), or a target that does
            not build a :class:`Rubric`.
    """
    tree = _plain(cfg)
    if not isinstance(tree, dict):
        raise RubricError(f"rubric config must be a mapping, got {type(tree).__name__}")
    if "params" in tree and "name" in tree:  # the conf/rubric group shape
        if not tree.get("_target_"):
            raise RubricError(
                f"rubric {tree['name']!r} has no _target_: it selects the env's own rubric, nothing to build"
            )
        tree = {"_target_": tree["_target_"], **(tree.get("params") or {})}
    if not tree.get("_target_"):
        raise RubricError("rubric config has no _target_")
    _check_targets(tree, "")
    rubric = _instantiate(tree, "")
    if not isinstance(rubric, Rubric):
        raise RubricError(f"{tree['_target_']} built a {type(rubric).__name__}, not a Rubric")
    return rubric


def config_update(cfg: Any) -> dict[str, Any]:
    """The ``POST /config`` body for a rubric group config: ``overrides`` with ``weights`` merged in.

    Args:
        cfg: A rubric group config (``{name, weights, overrides, ...}``).

    Returns:
        A partial reward config; ``{}`` means "the env's defaults" (``rubric=default``).
    """
    plain = _plain(cfg) or {}
    update: dict[str, Any] = dict(plain.get("overrides") or {})
    weights = dict(plain.get("weights") or {})
    if weights:
        update["weights"] = {**dict(update.get("weights") or {}), **weights}
    return update


@dataclass
class RewardConfig:
    """Base of an environment's reward config (the ``config_type`` served at ``/config``).

    Subclass it with the env's defaults: every component name must appear in ``weights`` (the config holder
    refuses weights for names it does not know, which catches typos in ``POST /config``).

    Attributes:
        schema_version: Bump when the meaning of the fields changes; updates written for another version are
            refused.
        weights: Weight by reward component name (>= 0).
    """

    schema_version: str = "1"
    weights: dict[str, float] = field(default_factory=dict)


def check_reward_config(config: Any, rubric: Rubric) -> None:
    """Check that an env's reward config names exactly the rubric's components (call it in ``__init__``).

    Raises:
        RubricError: listing the components missing from ``config.weights`` and the unknown names in it.
    """
    weights: Mapping[str, float] = getattr(config, "weights", {}) or {}
    components = set(rubric.reward_components())
    missing, unknown = sorted(components - set(weights)), sorted(set(weights) - components)
    if missing or unknown:
        raise RubricError(
            f"{type(config).__name__}.weights does not match the rubric: missing {missing}, unknown {unknown}"
        )

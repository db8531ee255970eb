"""Reference policies an environment ships for the conformance checker.

An environment provides, usually in ``envs/<name>/oracle.py``:

- ``hidden(seed, **reset_kwargs) -> dict``: the ground truth of the episode a seed selects (it must never
  appear in observations; the oracle may use it);
- ``oracle_action(observation: dict, hidden: dict) -> dict``: an action of a policy that reaches the
  maximum reward (called each step until the episode ends);
- ``null_action(observation: dict) -> dict`` (optional): a do-nothing action;
- ``MAX_REWARD`` (optional): the maximum episode return; by default the sum of the final observation's
  ``reward_weights`` (i.e. every component's maximum is 1).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from ..spec import check_target

Policy = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class EnvOracle:
    """An environment's reference policies.

    Attributes:
        act: ``(observation, hidden) -> action``: reaches the maximum reward.
        hidden: ``(seed, **reset_kwargs) -> ground truth``; None when the env has no hidden state.
        null: ``observation -> action`` of a do-nothing policy (None: derived from the action schema).
        max_reward: The maximum episode return (None: the sum of the final ``reward_weights``).
        reset_kwargs: Reset arguments the oracle's ``hidden`` assumes (passed to every checked reset).
    """

    act: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]
    hidden: Callable[..., dict[str, Any]] | None = None
    null: Policy | None = None
    max_reward: float | None = None
    reset_kwargs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_module(cls, module: str | ModuleType, **overrides: Any) -> EnvOracle:
        """Build from a module with ``oracle_action``, ``hidden``, ``null_action``, ``MAX_REWARD``.

        Args:
            module: The module or its dotted path (must be under an allowed import prefix, e.g. ``envs.``).
            **overrides: Field values that replace the module's (e.g. ``reset_kwargs``).
        """
        if isinstance(module, str):
            check_target(module)
            module = importlib.import_module(module)
        values: dict[str, Any] = {
            "act": module.oracle_action,
            "hidden": getattr(module, "hidden", None),
            "null": getattr(module, "null_action", None),
            "max_reward": getattr(module, "MAX_REWARD", None),
            "reset_kwargs": dict(getattr(module, "RESET_KWARGS", {})),
        }
        values.update(overrides)
        return cls(**values)


def null_from_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A do-nothing action built from an action JSON schema: required fields at their zero value."""
    zero = {"string": "", "integer": 0, "number": 0.0, "boolean": False, "array": [], "object": {}}
    out: dict[str, Any] = {}
    props = schema.get("properties", {})
    for name in schema.get("required", []):
        prop = props.get(name, {})
        if "enum" in prop:
            out[name] = prop["enum"][0]
        elif "const" in prop:
            out[name] = prop["const"]
        else:
            out[name] = zero.get(str(prop.get("type")))
    return out

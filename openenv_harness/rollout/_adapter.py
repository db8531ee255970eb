"""How the harness talks to an environment in text: the :class:`EnvAdapter` protocol and how one is found.

An adapter turns an observation (the wire ``observation`` fields) into the next user message of a chat, a
model reply into the env's action object, and carries the env's scripted baseline (``policy=scripted``: a
fixed, deterministic strategy that is neither the oracle nor a no-op) and its success component (which
reward component says "solved" in evals).

The framework holds no table of env names. An env declares its adapter next to itself: ``ADAPTER`` in the
``adapter`` module of the env's package (``envs/arith/adapter.py`` for the entry point
``envs.arith:ArithEnvironment``), or an explicit ``adapter=`` entry point given to
:func:`openenv_harness.register`. An env that declares none — including environments served by OpenEnv
itself — gets the generic adapter built from its ``/schema`` (:mod:`._generic`).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Scripted = Callable[[dict[str, Any], list[dict[str, str]]], str]
"""A scripted baseline: (observation fields, chat so far) -> reply text."""


@runtime_checkable
class EnvAdapter(Protocol):
    """The text interface of one environment type (what the rollout engine needs from an env)."""

    @property
    def env_id(self) -> str:
        """The environment id it serves."""
        ...

    @property
    def system_prompt(self) -> str:
        """The default system message."""
        ...

    @property
    def success_component(self) -> str | None:
        """The reward component that means "solved" (None: a positive reward)."""
        ...

    def render(self, obs: dict[str, Any]) -> str:
        """The user message for an observation's env-specific fields."""
        ...

    def to_action(self, text: str) -> dict[str, Any]:
        """The action object for a reply (``ValueError`` when none can be made: an invalid action)."""
        ...

    def scripted(self, obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
        """The scripted baseline's reply."""
        ...


def _echo_first_text(obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
    # Repeats the first text field of the observation (a fixed, content-dependent answer).
    for value in obs.values():
        if isinstance(value, str) and value:
            return value[:200]
    return "ok"


@dataclass(frozen=True)
class TextAdapter:
    """An :class:`EnvAdapter` configured by fields (what every shipped env uses).

    Attributes:
        env_id: The environment id it serves.
        system_prompt: Default system message.
        action_field: Action field receiving the reply text.
        prompt_fields: Observation fields shown to the model, in order (empty: all non-empty fields).
        action_extra: Constant fields added to every action (e.g. ``language``).
        baseline: The scripted baseline.
        strip_code_fences: Take the body of a fenced code block when the reply has one.
        extract: Turns the reply text into the action field's value (e.g. the last 5-letter word).
        json_keys: Action fields a reply may set itself by being a JSON object (e.g. tool calls
            ``{"tool": ..., "args": {...}}``); any other reply goes to ``action_field``.
        success_component: Reward component that means "solved" in evals (None: reward > 0).
        first_present: Show only the first non-empty field of ``prompt_fields`` (e.g. the feedback after a
            wrong answer, else the question).
    """

    env_id: str
    system_prompt: str
    action_field: str
    prompt_fields: tuple[str, ...] = ()
    action_extra: dict[str, Any] = field(default_factory=dict)
    baseline: Scripted = _echo_first_text
    strip_code_fences: bool = False
    extract: Callable[[str], str] | None = None
    json_keys: tuple[str, ...] = ()
    success_component: str | None = None
    first_present: bool = False

    def render(self, obs: dict[str, Any]) -> str:
        """The user message for an observation (its env-specific fields)."""
        keys = self.prompt_fields or tuple(k for k, v in obs.items() if v not in (None, "", [], {}))
        if self.first_present:
            keys = next(((k,) for k in keys if obs.get(k) not in (None, "", [], {})), keys[:1])
        if len(keys) == 1:
            return str(obs.get(keys[0], ""))
        parts = []
        for k in keys:
            v = obs.get(k)
            if v in (None, "", [], {}):
                continue
            parts.append(f"{k}: {v if isinstance(v, str) else json.dumps(v)}")
        return "\n".join(parts)

    def to_action(self, text: str) -> dict[str, Any]:
        """The action object for a reply."""
        if self.json_keys:
            try:
                obj = json.loads(text.strip())
            except ValueError:
                obj = None
            if isinstance(obj, dict) and obj and set(obj) <= set(self.json_keys):
                return obj
        if self.strip_code_fences:
            m = re.search(r"```[a-zA-Z0-9_+-]*\n(.*?)(```|$)", text, re.S)
            if m:
                text = m.group(1)
        if self.extract is not None:
            text = self.extract(text)
        return {**self.action_extra, self.action_field: text}

    def scripted(self, obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
        """The scripted baseline's reply."""
        return self.baseline(obs, chat)

    def with_action_field(self, name: str) -> TextAdapter:
        """A copy that sends the reply text to another action field (``env.action_field``)."""
        return dataclasses.replace(self, action_field=name)


def declared_adapter(env_id: str) -> EnvAdapter | None:
    """The adapter ``env_id`` declares (see the module docstring), or None when it declares none.

    Raises:
        TypeError: the declared object is not an :class:`EnvAdapter`.
    """
    from ..spec import load_entry_point, spec

    try:
        s = spec(env_id)
    except KeyError:
        return None  # not registered here (e.g. a remote OpenEnv server): the generic adapter serves it
    explicit = getattr(s, "adapter", None)
    if explicit:
        found = load_entry_point(explicit)
    else:
        module = s.entry_point.split(":", 1)[0] if ":" in s.entry_point else s.entry_point.rpartition(".")[0]
        found = None
        parent = module.rpartition(".")[0]
        for candidate in (f"{module}.adapter", *([f"{parent}.adapter"] if parent else [])):
            try:
                found = getattr(importlib.import_module(candidate), "ADAPTER", None)
            except ModuleNotFoundError as exc:
                if exc.name is None or not candidate.startswith(exc.name):
                    raise  # the adapter module exists but imports something missing: say so
                continue
            if found is not None:
                break
    if found is None:
        return None
    if not isinstance(found, EnvAdapter):
        raise TypeError(f"the adapter env {env_id!r} declares is not an EnvAdapter: {found!r}")
    return found


def adapter_for(
    env_id: str,
    action_field: str | None = None,
    action_schema: dict[str, Any] | None = None,
    tools: Any = (),
) -> EnvAdapter:
    """The adapter of ``env_id``: the one it declares, or the generic one built from its action schema.

    Args:
        env_id: The environment id.
        action_field: ``env.action_field`` override (the field that receives the reply text).
        action_schema: The action JSON schema from ``GET /schema`` (for envs that declare no adapter).
        tools: For a generic adapter whose action is a tool call: the env's tools
            (:class:`~openenv_harness.rollout.ToolSpec`), or a function listing them (called only then).

    Raises:
        ValueError: when neither a declared adapter nor the schema tells how to build an action (naming
            ``env.action_field``).
    """
    from ._generic import GenericAdapter

    declared = declared_adapter(env_id)
    if declared is not None:
        if action_field and isinstance(declared, TextAdapter) and action_field != declared.action_field:
            return declared.with_action_field(action_field)
        return declared
    return GenericAdapter.from_schema(env_id, action_schema or {}, action_field=action_field, tools=tools)

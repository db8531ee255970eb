"""The generic adapter: any env that declares no adapter, driven from its action JSON schema (``/schema``).

* **Prompt:** the system prompt lists the action's fields with their JSON types and descriptions, says which
  are required, and how to reply (a JSON object, or plain text when one field takes free text).
* **Reply → action:** a JSON object in the reply (bare, or in a fenced block) sets the fields it names, with
  values coerced to the schema's scalar types (``"3"`` for an integer field becomes ``3``); otherwise the
  whole reply goes to the text field (``env.action_field``, else the first required string field, else the
  first string field); otherwise, for a single numeric required field, the reply's first number is taken.
  A reply that fits none of these raises ``ValueError``, which the engine records as an invalid action.
* **Baseline:** repeats the observation's first text field (fixed, content-dependent, never the oracle).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_FENCE = re.compile(r"```(?:json)?\s*\n(.*?)```", re.S)
_HIDDEN = ("metadata",)  # fields of the wire action that are not the agent's to set


def first_string_field(action_schema: dict[str, Any]) -> str | None:
    """The first string-typed property of an action JSON schema (required ones first)."""
    props: dict[str, Any] = action_schema.get("properties", {}) or {}
    required = list(action_schema.get("required", []) or [])
    for name in required + [p for p in props if p not in required]:
        if _type_of(props.get(name, {})) == "string":
            return name
    return None


def _type_of(prop: dict[str, Any]) -> str | None:
    """The JSON type of a property (``anyOf`` with null, as pydantic writes ``X | None``, gives X's type)."""
    if "type" in prop:
        t = prop["type"]
        return str(t) if isinstance(t, str) else next((x for x in t if x != "null"), None)
    for alt in prop.get("anyOf", []) or []:
        if isinstance(alt, dict) and alt.get("type") not in (None, "null"):
            return str(alt["type"])
    if "enum" in prop and prop["enum"]:
        return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(type(prop["enum"][0]))
    return None


def _coerce(value: Any, prop: dict[str, Any]) -> Any:
    """Coerce a scalar the model wrote as a string to the schema's type (the server still validates)."""
    t = _type_of(prop)
    if not isinstance(value, str):
        return value
    try:
        if t == "integer":
            return int(value.strip())
        if t == "number":
            return float(value.strip())
        if t == "boolean" and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
    except ValueError:
        return value
    return value


def _json_object(text: str) -> dict[str, Any] | None:
    candidates = [text.strip(), *(m.group(1).strip() for m in _FENCE.finditer(text))]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for c in candidates:
        try:
            obj = json.loads(c)
        except ValueError:
            continue
        if isinstance(obj, dict):
            return obj
    return None


def _baseline(obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
    for value in obs.values():
        if isinstance(value, str) and value:
            return value[:200]
    return "ok"


@dataclass(frozen=True)
class GenericAdapter:
    """An adapter built from an action JSON schema (see the module docstring).

    Attributes:
        env_id: The environment id.
        properties: The action's properties (JSON schema), without wire-only fields.
        required: Required property names.
        text_field: The field a plain-text reply goes to (None: replies must be JSON or a number).
        system_prompt: Instructions built from the schema.
        success_component: Always None (success is reward > 0 unless an eval names a component).
    """

    env_id: str
    properties: dict[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    text_field: str | None = None
    system_prompt: str = "You are an agent acting in an environment."
    success_component: str | None = None

    @classmethod
    def from_schema(
        cls, env_id: str, action_schema: dict[str, Any], action_field: str | None = None
    ) -> GenericAdapter:
        """Build the adapter of an env from its action schema.

        Raises:
            ValueError: the schema has no properties and no ``action_field`` is given (naming the field).
        """
        props = {k: v for k, v in (action_schema.get("properties") or {}).items() if k not in _HIDDEN}
        required = tuple(r for r in action_schema.get("required", []) or [] if r in props)
        if not props and not action_field:
            raise ValueError(
                f"cannot tell how to build an action of env {env_id!r}: its action schema has no fields; "
                "set env.action_field"
            )
        if action_field and props and action_field not in props:
            raise ValueError(
                f"env.action_field={action_field!r} is not a field of {env_id!r}'s action: {sorted(props)}"
            )
        text_field = action_field or first_string_field({"properties": props, "required": list(required)})
        return cls(
            env_id=env_id,
            properties=props,
            required=required,
            text_field=text_field,
            system_prompt=_instructions(props, required, text_field),
        )

    def render(self, obs: dict[str, Any]) -> str:
        """Every non-empty observation field, ``name: value`` (JSON for structured values)."""
        parts = []
        for k, v in obs.items():
            if v in (None, "", [], {}):
                continue
            parts.append(f"{k}: {v if isinstance(v, str) else json.dumps(v)}")
        return "\n".join(parts)

    def to_action(self, text: str) -> dict[str, Any]:
        """The action for a reply (see the module docstring); ``ValueError`` when none fits."""
        obj = _json_object(text) if self.properties else None
        if obj is not None and obj and set(obj) <= set(self.properties):
            return {k: _coerce(v, self.properties.get(k, {})) for k, v in obj.items()}
        if self.text_field:
            return {self.text_field: text}
        numeric = [r for r in self.required if _type_of(self.properties[r]) in ("integer", "number")]
        if len(self.required) == 1 and numeric:
            m = _NUMBER.search(text)
            if m:
                return {numeric[0]: _coerce(m.group(0), self.properties[numeric[0]])}
        raise ValueError(
            f"reply is not a JSON object with fields of {sorted(self.properties)}: {text[:80]!r}"
        )

    def scripted(self, obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
        """Repeats the observation's first text field."""
        return _baseline(obs, chat)


def _instructions(props: dict[str, Any], required: tuple[str, ...], text_field: str | None) -> str:
    lines = ["You are an agent acting in an environment. Your action has these fields:"]
    for name, prop in props.items():
        kind = _type_of(prop) or "value"
        extra = f", one of {prop['enum']}" if prop.get("enum") else ""
        desc = f": {prop['description']}" if prop.get("description") else ""
        need = "required" if name in required else "optional"
        lines.append(f"- {name} ({kind}{extra}, {need}){desc}")
    example = {n: f"<{_type_of(props[n]) or 'value'}>" for n in (required or tuple(props)[:1])}
    lines.append(f"Reply with one JSON object, e.g. {json.dumps(example)}.")
    if text_field:
        lines.append(f"A reply that is not JSON is sent as the {text_field!r} field.")
    return "\n".join(lines)

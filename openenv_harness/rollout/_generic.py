"""The generic adapter: any env that declares no adapter, driven from its action JSON schema (``/schema``).

* **Prompt:** the system prompt lists the action's fields with their JSON types, ranges, enum values and
  descriptions, says which are required, gives the action's JSON schema and an example reply, and says how to
  reply (a JSON object, or plain text when one field takes free text). Fields the agent cannot choose (a
  ``const`` such as OpenEnv's ``type: "call_tool"``) are filled in and not asked for.
* **Reply → action:** a JSON object in the reply (bare, or in a fenced block) sets the fields it names, with
  values coerced to the schema's types (:mod:`._jsonschema`: ``"3"`` → ``3`` for an integer, enum values
  case-insensitively, nested objects field by field); otherwise the whole reply goes to the text field
  (``env.action_field``, else the first required string field, else the first string field); otherwise, for
  a single required numeric field the reply's first number is taken, for a single required enum field the
  first enum value the reply names. A reply that fits none of these raises ``ValueError``, which the engine
  records as an invalid action.
* **Tool calls:** an action with a tool-name field and an arguments object (OpenEnv's MCP ``CallToolAction``:
  ``tool_name`` + ``arguments``) is a tool call; replies may also use the common spellings
  ``{"tool"|"name": ..., "args"|"arguments": {...}}`` (arguments may be a JSON string, as OpenAI writes them).
  When the env's tools are known (:mod:`._tools`: its ``tools/list``), the prompt lists each tool's name,
  description and input schema; a reply's arguments are coerced to that schema, may also be written beside
  the tool's name (``{"tool": "echo", "message": "hi"}``), and a tool the env does not have is an invalid
  action naming the tools it has.
* **Baseline:** a fixed, schema-valid action: with known tools, a call of the first one with example
  arguments; else the first entry of an observation list named ``legal*``
  (``legal_actions``, ``legal_moves``) when its type fits, else text fields repeat the observation's first text
  field, numbers take their minimum, enums their first value (never the oracle).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._jsonschema import coerce, compact, describe, example, fixed_value, non_null, without_titles
from ._jsonschema import type_of as _schema_type
from ._tools import ToolSpec

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_FENCE = re.compile(r"```(?:json)?\s*\n(.*?)```", re.S)
_HIDDEN = ("metadata",)  # fields of the wire action that are not the agent's to set
_TOOL_NAMES = ("tool_name", "tool", "name")
_TOOL_ARGS = ("arguments", "args", "parameters", "input")


def first_string_field(action_schema: dict[str, Any]) -> str | None:
    """The first string-typed property of an action JSON schema (required ones first; constants skipped)."""
    props: dict[str, Any] = action_schema.get("properties", {}) or {}
    defs: dict[str, Any] = action_schema.get("$defs", {}) or {}
    required = list(action_schema.get("required", []) or [])
    for name in required + [p for p in props if p not in required]:
        prop = props.get(name, {})
        if (
            _schema_type(prop, defs) == "string"
            and not fixed_value(prop, defs)[0]
            and not non_null(prop, defs).get("enum")
        ):
            return name
    return None


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


def _tool_fields(props: dict[str, Any], defs: dict[str, Any]) -> tuple[str, str] | None:
    """``(tool name field, arguments field)`` when the action is a tool call, else None."""
    name = next((n for n in _TOOL_NAMES if n in props and _schema_type(props[n], defs) == "string"), None)
    args = next((a for a in _TOOL_ARGS if a in props and _schema_type(props[a], defs) == "object"), None)
    return (name, args) if name and args else None


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
        defs: The schema's ``$defs`` (nested models, enums).
        fixed: Fields the agent cannot choose and their values (``const``), added to every action.
        tool_call: ``(tool name field, arguments field)`` when the action is a tool call.
        tools: The env's tools when known (only for a tool-call action).
    """

    env_id: str
    properties: dict[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    text_field: str | None = None
    system_prompt: str = "You are an agent acting in an environment."
    success_component: str | None = None
    defs: dict[str, Any] = field(default_factory=dict)
    fixed: dict[str, Any] = field(default_factory=dict)
    tool_call: tuple[str, str] | None = None
    tools: tuple[ToolSpec, ...] = ()

    @classmethod
    def from_schema(
        cls,
        env_id: str,
        action_schema: dict[str, Any],
        action_field: str | None = None,
        tools: Sequence[ToolSpec] | Callable[[], Sequence[ToolSpec]] = (),
    ) -> GenericAdapter:
        """Build the adapter of an env from its action schema.

        Args:
            env_id: The environment id.
            action_schema: The action's JSON schema (``GET /schema``).
            action_field: ``env.action_field``: the field a plain-text reply goes to.
            tools: The env's tools, or a function that lists them (called only when the action is a tool
                call, e.g. ``lambda: tools_of(env_id, urls)``).

        Raises:
            ValueError: the schema has no properties and no ``action_field`` is given (naming the field).
        """
        defs = dict(action_schema.get("$defs") or {})
        props = {k: v for k, v in (action_schema.get("properties") or {}).items() if k not in _HIDDEN}
        fixed = {
            k: v for k, (is_fixed, v) in ((k, fixed_value(p, defs)) for k, p in props.items()) if is_fixed
        }
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
        tool = _tool_fields(props, defs)
        choosable = {k: v for k, v in props.items() if k not in fixed}
        text_field = action_field or (
            None
            if tool
            else first_string_field({"properties": choosable, "required": list(required), "$defs": defs})
        )
        if not action_field and text_field not in required and any(r in choosable for r in required):
            text_field = None  # an optional text field cannot carry a reply that must set required fields
        shown = {**action_schema, "properties": choosable}
        known = tuple((tools() if callable(tools) else tools) if tool else ())
        return cls(
            env_id=env_id,
            properties=props,
            required=required,
            text_field=text_field,
            system_prompt=_instructions(shown, defs, required, text_field, tool, known),
            defs=defs,
            fixed=fixed,
            tool_call=tool,
            tools=known,
        )

    def render(self, obs: dict[str, Any]) -> str:
        """Every non-empty observation field, ``name: value`` (JSON for structured values)."""
        parts = []
        for k, v in obs.items():
            if v in (None, "", [], {}):
                continue
            parts.append(f"{k}: {v if isinstance(v, str) else json.dumps(v)}")
        return "\n".join(parts)

    def _from_object(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """The action a JSON reply names, or None when it names fields the action does not have."""
        if self.tool_call:
            name_f, args_f = self.tool_call
            obj = dict(obj)
            for alias in _TOOL_NAMES:
                if alias in obj and alias not in self.properties:
                    obj.setdefault(name_f, obj.pop(alias))
            for alias in _TOOL_ARGS:
                if alias in obj and alias not in self.properties:
                    obj.setdefault(args_f, obj.pop(alias))
            if self.tools and name_f in obj:
                obj = self._known_call(obj, name_f, args_f)
        if not obj or not set(obj) <= set(self.properties):
            return None
        chosen = {k: coerce(v, self.properties[k], self.defs) for k, v in obj.items()}
        return {**self.fixed, **chosen}

    def _known_call(self, obj: dict[str, Any], name_f: str, args_f: str) -> dict[str, Any]:
        """A call of a known tool: arguments written beside the name gathered, coerced to its input schema.

        Raises:
            ValueError: the reply names a tool the env does not have (listing the ones it has).
        """
        by_name = {t.name: t for t in self.tools}
        tool = by_name.get(str(obj[name_f]))
        if tool is None:
            raise ValueError(f"unknown tool {obj[name_f]!r}: the tools are {', '.join(by_name)}")
        schema = {"type": "object", **tool.input_schema}
        loose = [k for k in obj if k not in self.properties and k in (schema.get("properties") or {})]
        if loose and args_f not in obj:
            obj = {**{k: v for k, v in obj.items() if k not in loose}, args_f: {k: obj[k] for k in loose}}
        if args_f in obj:
            obj = {**obj, args_f: coerce(obj[args_f], schema, dict(schema.get("$defs") or {}))}
        return obj

    def to_action(self, text: str) -> dict[str, Any]:
        """The action for a reply (see the module docstring); ``ValueError`` when none fits."""
        obj = _json_object(text) if self.properties else None
        if obj is not None:
            action = self._from_object(obj)
            if action is not None:
                return action
        if self.text_field:
            return {**self.fixed, self.text_field: text}
        open_required = [r for r in self.required if r not in self.fixed]
        if len(open_required) == 1:
            name = open_required[0]
            prop = non_null(self.properties[name], self.defs)
            if prop.get("enum"):
                words = {w.lower() for w in re.findall(r"[\w-]+", text)}
                hit = next((e for e in prop["enum"] if str(e).lower() in words), None)
                if hit is not None:
                    return {**self.fixed, name: hit}
            elif _schema_type(prop, self.defs) in ("integer", "number"):
                m = _NUMBER.search(text)
                if m:
                    return {**self.fixed, name: coerce(m.group(0), prop, self.defs)}
        raise ValueError(
            f"reply is not a JSON object with fields of {sorted(self.properties)}: {text[:80]!r}"
        )

    def scripted(self, obs: dict[str, Any], chat: list[dict[str, str]]) -> str:
        """A fixed, schema-valid reply (see the module docstring)."""
        text = _first_text(obs)
        legal = next((v for k, v in obs.items() if k.startswith("legal") and isinstance(v, list) and v), None)
        if self.text_field and not self.tool_call:
            return str(legal[0]) if legal and isinstance(legal[0], str) else text
        if self.tool_call and self.tools:
            first = self.tools[0]
            schema = {"type": "object", **first.input_schema}
            args = example(schema, dict(schema.get("$defs") or {}), text)
            return json.dumps({self.tool_call[0]: first.name, self.tool_call[1]: args})
        action: dict[str, Any] = {}
        for name in self.required or tuple(self.properties)[:1]:
            if name in self.fixed:
                continue
            prop = self.properties[name]
            if legal and isinstance(legal[0], int) and _schema_type(prop, self.defs) == "integer":
                action[name] = legal[0]
            else:
                action[name] = example(prop, self.defs, text)
        return json.dumps(action)


def _first_text(obs: dict[str, Any]) -> str:
    for value in obs.values():
        if isinstance(value, str) and value:
            return value[:200]
    return "ok"


def _instructions(
    schema: dict[str, Any],
    defs: dict[str, Any],
    required: tuple[str, ...],
    text_field: str | None,
    tool: tuple[str, str] | None,
    tools: tuple[ToolSpec, ...] = (),
) -> str:
    props: dict[str, Any] = schema.get("properties") or {}
    lines = ["You are an agent acting in an environment. Your action has these fields:"]
    for name, prop in props.items():
        p = non_null(prop, defs)
        desc = f": {p['description']}" if p.get("description") else ""
        need = "required" if name in required else "optional"
        lines.append(f"- {name} ({describe(p, defs)}, {need}){desc}")
    if tool:
        lines.append(
            f"The action calls a tool: {tool[0]!r} names the tool, {tool[1]!r} is a JSON object of its arguments."
        )
    if tool and tools:
        lines.append(f"The tools ({tool[0]!r}) and the JSON schema of their arguments ({tool[1]!r}):")
        for t in tools:
            args = json.dumps(without_titles(t.input_schema), separators=(",", ":"))
            lines.append(f"- {t.name}: {t.description.strip() or 'no description'} Arguments: {args}")
    lines.append(f"Action JSON schema: {compact(schema, _HIDDEN)}")
    sample = {n: example(props[n], defs, "...") for n in (required or tuple(props)[:1]) if n in props}
    if tool and tools:
        first = {"type": "object", **tools[0].input_schema}
        sample.update(
            {tool[0]: tools[0].name, tool[1]: example(first, dict(first.get("$defs") or {}), "...")}
        )
    lines.append(f"Reply with one JSON object, e.g. {json.dumps(sample)}.")
    if text_field:
        lines.append(f"A reply that is not JSON is sent as the {text_field!r} field.")
    return "\n".join(lines)

"""The little of JSON Schema the generic adapter needs: types, ``$ref``, enums, constants, coercion, examples.

Schemas come from pydantic v2 (``model_json_schema``) as served at ``/schema``: optional fields are
``anyOf: [X, null]``, nested models and enums are ``$ref`` into ``$defs``, literals are ``const``. A model
writes every scalar as text, so values are coerced to the schema's type before they are sent (the server
still validates): ``"3"`` for an integer becomes ``3``, ``"Red"`` for ``enum: ["red", "blue"]`` becomes
``"red"``, a JSON string for an object field is parsed, nested objects are coerced field by field.
"""

from __future__ import annotations

import json
from typing import Any

_SCALAR_OF = {str: "string", int: "integer", float: "number", bool: "boolean"}


def resolve(prop: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """``prop`` with a local ``$ref`` (``#/$defs/Name``) replaced by its definition (one level, merged)."""
    if not isinstance(prop, dict):
        return {}
    ref = prop.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = defs.get(ref.rsplit("/", 1)[-1], {})
        return {**target, **{k: v for k, v in prop.items() if k != "$ref"}}
    return prop


def non_null(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The non-null alternative of ``anyOf: [X, null]`` (what pydantic writes for ``X | None``), resolved."""
    prop = resolve(prop, defs)
    for alt in prop.get("anyOf", []) or []:
        alt = resolve(alt, defs)
        if alt.get("type") not in (None, "null") or "enum" in alt or "properties" in alt:
            return {**{k: v for k, v in prop.items() if k != "anyOf"}, **alt}
    return prop


def type_of(prop: dict[str, Any], defs: dict[str, Any] | None = None) -> str | None:
    """The JSON type of a property (``object`` for nested models, the enum's value type for enums)."""
    p = non_null(prop, defs or {})
    t = p.get("type")
    if isinstance(t, str):
        return t
    if isinstance(t, list):
        return next((x for x in t if x != "null"), None)
    if "properties" in p:
        return "object"
    values = p.get("enum") or ([p["const"]] if "const" in p else [])
    return _SCALAR_OF.get(type(values[0])) if values else None


def fixed_value(prop: dict[str, Any], defs: dict[str, Any]) -> tuple[bool, Any]:
    """``(True, value)`` for a field the agent cannot choose (a ``const``, or a one-value enum)."""
    p = non_null(prop, defs)
    if "const" in p:
        return True, p["const"]
    enum = p.get("enum")
    if isinstance(enum, list) and len(enum) == 1:
        return True, enum[0]
    return False, None


def coerce(value: Any, prop: dict[str, Any], defs: dict[str, Any]) -> Any:
    """Coerce a value the model wrote to the property's type (unchanged when it does not fit)."""
    p = non_null(prop, defs)
    t = type_of(p, defs)
    enum = p.get("enum")
    if isinstance(value, str):
        v = value.strip()
        try:
            if t == "integer":
                value = int(v)
            elif t == "number":
                value = float(v)
            elif t == "boolean" and v.lower() in ("true", "false"):
                value = v.lower() == "true"
            elif t in ("object", "array") and v[:1] in ("{", "["):
                value = json.loads(v)
        except ValueError:
            return value
    if isinstance(enum, list) and enum and value not in enum:
        match = [
            e for e in enum if isinstance(e, str) and isinstance(value, str) and e.lower() == value.lower()
        ]
        if len(match) == 1:
            value = match[0]
    if t == "object" and isinstance(value, dict):
        props = p.get("properties") or {}
        value = {k: coerce(v, props[k], defs) if k in props else v for k, v in value.items()}
    if t == "array" and isinstance(value, list) and isinstance(p.get("items"), dict):
        value = [coerce(v, p["items"], defs) for v in value]
    return value


def describe(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    """A short type description: ``integer, 0..6``, ``string, one of ['a', 'b']``, ``object {x, y}``."""
    p = non_null(prop, defs)
    kind = type_of(p, defs) or "value"
    bits = [kind]
    lo, hi = p.get("minimum"), p.get("maximum")
    if lo is not None or hi is not None:
        bits.append(f"{'' if lo is None else lo}..{'' if hi is None else hi}")
    if p.get("enum"):
        bits.append(f"one of {p['enum']}")
    if kind == "object" and p.get("properties"):
        bits[0] = "object {" + ", ".join(p["properties"]) + "}"
    return ", ".join(bits)


def example(prop: dict[str, Any], defs: dict[str, Any], text: str = "") -> Any:
    """A valid-looking value of the property (defaults, enum's first value, minimum, ``text`` for strings)."""
    p = non_null(prop, defs)
    fixed, value = fixed_value(p, defs)
    if fixed:
        return value
    if "default" in p and p["default"] is not None:
        return p["default"]
    if p.get("enum"):
        return p["enum"][0]
    t = type_of(p, defs)
    if t in ("integer", "number"):
        lo = p.get("minimum", p.get("exclusiveMinimum", 0))
        return int(lo) if t == "integer" else float(lo)
    if t == "boolean":
        return False
    if t == "array":
        return []
    if t == "object":
        props = p.get("properties") or {}
        return {k: example(v, defs, text) for k, v in props.items() if k in (p.get("required") or [])}
    return text or "ok"


def without_titles(node: Any) -> Any:
    """A schema without its ``title`` keys (noise in a prompt)."""
    if isinstance(node, dict):
        return {k: without_titles(v) for k, v in node.items() if k != "title"}
    if isinstance(node, list):
        return [without_titles(v) for v in node]
    return node


def compact(schema: dict[str, Any], hidden: tuple[str, ...]) -> str:
    """The action schema as one line of JSON for a prompt, without titles and hidden fields."""
    out = dict(schema)
    out["properties"] = {k: v for k, v in (schema.get("properties") or {}).items() if k not in hidden}
    out.pop("description", None)
    return json.dumps(without_titles(out), separators=(",", ":"))

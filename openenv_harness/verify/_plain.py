"""The strict serializer: the only form in which values cross from a sandbox to the trusted grader.

A value is *plain* when it is built only from ``None``, ``bool``, ``int``, ``float``, ``str``, ``list``,
``tuple``, ``dict``, ``set`` and ``frozenset``, with exactly those types (``type(v) is int``, never a
subclass): nothing with custom behaviour (an ``__eq__`` that is always true, a ``str`` subclass, a lazy
iterator) can be expressed. The wire form is JSON with a few one-key tags for what JSON lacks::

    None/bool/int/float/str/list  -> themselves          tuple      -> {"t": [...]}
    set                           -> {"s": [...]}        frozenset  -> {"fs": [...]}
    dict                          -> {"d": [[k, v]...]}  nan/inf    -> {"f": "nan"|"inf"|"-inf"}

:func:`encode` also runs inside the sandbox (the callee program carries a copy of this module's source),
but nothing depends on it being honest there: :func:`decode` runs in the grader and accepts only this
grammar, building builtin values itself, so whatever the sandbox writes, the grader holds plain data.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64
"""Deepest nesting accepted (deeper values are refused on both sides)."""
MAX_INT_DIGITS = 4000
"""Largest integer accepted, in decimal digits (CPython refuses to parse longer ones by default)."""


class NotPlain(ValueError):
    """The value is not plain data (the message names the offending type or limit)."""


def encode(value: Any, _depth: int = 0) -> Any:
    """The JSON-able wire form of a plain value.

    Raises:
        NotPlain: for anything that is not plain data, nesting deeper than :data:`MAX_DEPTH` or an
            integer longer than :data:`MAX_INT_DIGITS` digits.
    """
    if _depth > MAX_DEPTH:
        raise NotPlain(f"nested deeper than {MAX_DEPTH}")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        if value.bit_length() > MAX_INT_DIGITS * 3.33:
            raise NotPlain(f"integer longer than {MAX_INT_DIGITS} digits")
        return value
    if kind is float:
        if math.isfinite(value):
            return value
        return {"f": "nan" if value != value else ("inf" if value > 0 else "-inf")}
    if kind is list:
        return [encode(v, _depth + 1) for v in value]
    if kind is tuple:
        return {"t": [encode(v, _depth + 1) for v in value]}
    if kind is set:
        return {"s": [encode(v, _depth + 1) for v in value]}
    if kind is frozenset:
        return {"fs": [encode(v, _depth + 1) for v in value]}
    if kind is dict:
        return {"d": [[encode(k, _depth + 1), encode(v, _depth + 1)] for k, v in value.items()]}
    raise NotPlain(f"{kind.__name__} is not plain data")


def decode(wire: Any, _depth: int = 0) -> Any:
    """The value a wire form stands for, built from builtin types only.

    Raises:
        NotPlain: for anything outside the grammar (an unknown tag, an unhashable set member or dict key,
            too deep a nesting, a JSON type that ``json.loads`` never produces).
    """
    if _depth > MAX_DEPTH:
        raise NotPlain(f"nested deeper than {MAX_DEPTH}")
    kind = type(wire)
    if wire is None or kind is bool or kind is str or kind is int:
        return wire
    if kind is float:
        if not math.isfinite(wire):  # only ever written as a tag
            raise NotPlain("bare non-finite float")
        return wire
    if kind is list:
        return [decode(v, _depth + 1) for v in wire]
    if kind is not dict or len(wire) != 1:
        raise NotPlain(f"not a plain-data wire form: {kind.__name__}")
    ((tag, body),) = wire.items()
    try:
        if tag == "f" and body in ("nan", "inf", "-inf"):
            return float(body)
        if type(body) is not list:
            raise NotPlain(f"tag {tag!r} needs a list")
        items = [decode(v, _depth + 1) for v in body]
        if tag == "t":
            return tuple(items)
        if tag == "s":
            return set(items)
        if tag == "fs":
            return frozenset(items)
        if tag == "d":
            if not all(type(p) is list and len(p) == 2 for p in body):
                raise NotPlain("dict items must be [key, value] pairs")
            return {k: v for k, v in items}
    except TypeError as exc:  # unhashable member or key
        raise NotPlain(str(exc)) from None
    raise NotPlain(f"unknown tag {tag!r}")


def dumps(value: Any) -> str:
    """:func:`encode` as one line of JSON."""
    return json.dumps(encode(value), separators=(",", ":"), allow_nan=False)


def loads(text: str | bytes, max_bytes: int = 1 << 22) -> Any:
    """Parse one line of JSON written by :func:`dumps` (by anyone) and :func:`decode` it.

    Raises:
        NotPlain: for text over ``max_bytes``, invalid JSON, or anything :func:`decode` refuses.
    """
    if len(text) > max_bytes:
        raise NotPlain(f"message larger than {max_bytes} bytes")
    try:
        wire = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # bad JSON, too long an integer, too deep
        raise NotPlain(f"not plain-data JSON: {type(exc).__name__}") from None
    return decode(wire)


def _refuse_constant(name: str) -> Any:
    raise NotPlain(f"bare {name}")

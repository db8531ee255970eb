"""JSON encoding for the per-frame hot path, and the mapping from error codes to HTTP statuses.

Every WS frame and HTTP body goes through :func:`loads` and :func:`dumps`. They use ``orjson`` when it is
installed (several times faster than the standard library on small frames, which is most of our per-step CPU
outside the environment) and fall back to :mod:`json` otherwise; it is never a hard dependency.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic_core import to_jsonable_python

from openenv_harness.spec import EnvError, ErrorCode

try:  # pragma: no cover - which branch runs depends on the installation
    import orjson as _orjson
except ImportError:  # pragma: no cover
    _orjson = None  # type: ignore[assignment]

JSONDecodeError: tuple[type[Exception], ...] = (ValueError,)
"""What :func:`loads` raises on malformed input (``orjson.JSONDecodeError`` subclasses ``ValueError``)."""


def _fallback(obj: Any) -> Any:
    """Make values JSON-able that the encoder does not know (numpy scalars, sets, pydantic models)."""
    return to_jsonable_python(obj)


if _orjson is not None:
    _OPTS = _orjson.OPT_NON_STR_KEYS | _orjson.OPT_SERIALIZE_NUMPY
    _orjson_dumps = _orjson.dumps
    _orjson_loads = _orjson.loads

    def dumps(obj: Any) -> bytes:
        """Encode ``obj`` as compact UTF-8 JSON (non-finite floats become ``null``)."""
        return _orjson_dumps(obj, default=_fallback, option=_OPTS)

    def loads(data: str | bytes) -> Any:
        """Decode JSON text or bytes."""
        return _orjson_loads(data)

else:  # pragma: no cover

    def dumps(obj: Any) -> bytes:
        """Encode ``obj`` as compact UTF-8 JSON (non-finite floats become ``null``)."""
        return json.dumps(obj, default=_fallback, separators=(",", ":"), allow_nan=False).encode()

    def loads(data: str | bytes) -> Any:
        """Decode JSON text or bytes."""
        return json.loads(data)


HTTP_STATUS: dict[str, int] = {
    ErrorCode.INVALID_JSON: 400,
    ErrorCode.UNKNOWN_TYPE: 400,
    ErrorCode.VALIDATION_ERROR: 422,
    ErrorCode.FRAME_TOO_LARGE: 413,
    ErrorCode.NOT_RESET: 409,
    ErrorCode.EPISODE_DONE: 409,
    ErrorCode.CAPACITY: 503,
    ErrorCode.SESSION_NOT_FOUND: 404,
    ErrorCode.TIMEOUT: 504,
    ErrorCode.ENV_ERROR: 500,
    ErrorCode.REWARD_NOT_FINITE: 500,
    ErrorCode.REQUEST_TIMEOUT: 408,
    ErrorCode.CONFIG_INVALID: 422,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.UNSUPPORTED: 404,
    ErrorCode.INTERNAL: 500,
}
"""HTTP status of each error code.

Conflicts with the session's life cycle (``NOT_RESET``, ``EPISODE_DONE``) are 409; a full server is 503 with a
``Retry-After`` header (the condition is the server's, not a per-client rate limit, so not 429); a step that
ran out of time is 504; the environment's own crash is 500 with code ``ENV_ERROR`` so clients can tell it from
a server bug (``INTERNAL``). Unknown codes (an environment's own) map to 400.
"""


MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays/objects accepted in a frame or body.

Well above any action, reset argument or config (a few levels), and well below what our encoder can write
back (orjson stops at 254 levels): anything accepted can be echoed (an ``id``) or embedded in an observation
without the reply failing to encode. Deeper input is ``VALIDATION_ERROR``, never a traceback.
"""


def _depth_exceeds(obj: Any, limit: int) -> bool:
    # Iterative on purpose: the input is what an attacker chose, and recursion is what they would aim at.
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, dict | list))
    return False


def check_depth(raw: str | bytes, obj: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse decoded JSON nested deeper than ``limit`` (``VALIDATION_ERROR``).

    Args:
        raw: The text ``obj`` was decoded from: when it has no more than ``limit`` opening brackets, the
            nesting cannot exceed it and the walk is skipped (the common case, at C speed).
        obj: The decoded value.
        limit: Deepest nesting allowed.
    """
    opening = raw.count("{") + raw.count("[") if isinstance(raw, str) else raw.count(b"{") + raw.count(b"[")
    if opening > limit and _depth_exceeds(obj, limit):
        raise EnvError(
            ErrorCode.VALIDATION_ERROR,
            f"JSON nested deeper than {limit} levels; no field of a frame or body may nest that deep",
            {"max_depth": limit},
        )


INT_RANGE = (-(2**63), 2**64 - 1)
"""Integers a frame or body may hold: what the decoder reads exactly (orjson turns anything wider into a float)."""

_LONG_DIGITS = re.compile(rb"[0-9]{19}")
_LONG_DIGITS_STR = re.compile(r"[0-9]{19}")


def _wide_integer(obj: Any) -> tuple[str, int] | None:
    """The dotted path and value of the first integer outside :data:`INT_RANGE` (iteratively, like the depth walk)."""
    low, high = INT_RANGE
    stack: list[tuple[Any, str]] = [(obj, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            stack.extend((v, f"{path}.{k}" if path else str(k)) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((v, f"{path}.{i}" if path else str(i)) for i, v in reversed(list(enumerate(node))))
        elif type(node) is int and not low <= node <= high:
            return path, node
    return None


def check_integers(raw: str | bytes) -> None:
    """Refuse integer literals beyond 64 bits anywhere in a frame or body (``VALIDATION_ERROR`` naming the field).

    The fast decoder reads such an integer as a float, so a seed, an index or an action field would silently
    become a different number. Only text with a run of 19 digits can hold one (2**63 has 19), so everything
    else costs one regular-expression scan; the rest is decoded again exactly (stdlib ``json``) to find the
    field. Call it after :func:`check_depth`.

    Raises:
        EnvError: ``VALIDATION_ERROR`` with ``details.field`` (e.g. ``data.seed``; list items by index).
    """
    long_run = _LONG_DIGITS_STR.search(raw) if isinstance(raw, str) else _LONG_DIGITS.search(raw)
    if long_run is None:
        return
    found = _wide_integer(json.loads(raw))
    if found is not None:
        field, value = found
        shown = str(value) if len(str(value)) <= 40 else f"{str(value)[:40]}..."
        raise EnvError(
            ErrorCode.VALIDATION_ERROR,
            f"{field or 'value'}: integer {shown} is beyond 64 bits and would lose precision; send it as a string",
            {"field": field, "min": INT_RANGE[0], "max": INT_RANGE[1]},
        )


def http_status(err: EnvError) -> int:
    """HTTP status for an error (400 for codes this table does not know)."""
    return HTTP_STATUS.get(str(err.code), 400)


def error_frame(err: EnvError, req_id: Any = None) -> bytes:
    """Encode a WS ``error`` frame, echoing the request id when there is one.

    Never raises: if the id or the details cannot be encoded, the frame goes without them.
    """
    frame: dict[str, Any] = {"type": "error", "data": err.to_wire()}
    if req_id is not None:
        frame["id"] = req_id
    try:
        return dumps(frame)
    except (TypeError, ValueError):
        return dumps({"type": "error", "data": {"code": str(err.code), "message": err.message}})


def validation_message(exc: Any, prefix: str) -> tuple[str, list[dict[str, Any]]]:
    """A one-line message naming the first failing field of a pydantic ``ValidationError``, and all errors.

    Args:
        exc: The ``ValidationError``.
        prefix: What was validated (``action``, ``reset``), prefixed to the field path.
    """
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    first = errors[0] if errors else {"loc": (), "msg": str(exc)}
    field = ".".join(str(p) for p in (prefix, *first["loc"]))
    return f"{field}: {first['msg']}", [
        {"field": ".".join(str(p) for p in (prefix, *e["loc"])), "message": e["msg"], "type": e["type"]}
        for e in errors
    ]


__all__ = [
    "HTTP_STATUS",
    "INT_RANGE",
    "JSONDecodeError",
    "MAX_JSON_DEPTH",
    "check_depth",
    "check_integers",
    "dumps",
    "error_frame",
    "http_status",
    "loads",
    "validation_message",
]

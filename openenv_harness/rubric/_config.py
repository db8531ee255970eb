"""A rubric's parameters: the dataclass that holds them, its type-checked construction, and the error type."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError


class RubricError(ValueError):
    """A rubric was misconfigured or produced an invalid score; the message names the rubric."""


@dataclasses.dataclass
class RubricConfig:
    """Config of a rubric without parameters (subclasses declare their own ``Config`` dataclass)."""


_adapters: dict[type, TypeAdapter[Any]] = {}


def validate_config(config_type: type, values: Mapping[str, Any], owner: str) -> Any:
    """Build a config dataclass from ``values``, type-checked (YAML strings like ``"1e-6"`` are coerced).

    Raises:
        RubricError: naming the owner and field for an unknown field or a wrong type.
    """
    known = {f.name for f in dataclasses.fields(config_type)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise RubricError(f"{owner}: unknown config field(s) {unknown}; known: {sorted(known)}")
    adapter = _adapters.get(config_type)
    if adapter is None:
        adapter = _adapters[config_type] = TypeAdapter(config_type)
    try:
        return adapter.validate_python(dict(values), strict=False)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise RubricError(f"{owner}: config field {field!r}: {err['msg']}") from None
    except (TypeError, ValueError) as exc:  # a __post_init__ check of the dataclass
        raise RubricError(f"{owner}: {exc}") from None

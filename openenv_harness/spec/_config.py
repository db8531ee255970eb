"""Live reward configuration: a typed dataclass, partial updates, versions, applied at the next reset.

The environment owns the *schema* (a dataclass with a ``schema_version`` field, declared as
``Environment.config_type``); the trainer owns the *values* and changes them over training with
``POST /config``. :class:`ConfigHolder` is the one place that validates an update, swaps the whole config
object atomically under a lock and bumps ``config_version``. Sessions read ``(config, version)`` once, at
reset, so an episode never sees a config change mid-way.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import threading
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ._errors import EnvError, ErrorCode


def _unknown_keys(current: Any, update: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted paths in ``update`` that the current config does not have.

    Dataclass levels are checked against their fields; dict levels (such as ``weights``) against the keys the
    environment declared, so a typo in a component name is refused instead of silently adding a weight.
    """
    if dataclasses.is_dataclass(current):
        known: dict[str, Any] = {f.name: getattr(current, f.name) for f in dataclasses.fields(current)}
    elif isinstance(current, dict):
        known = current
    else:
        return []
    bad: list[str] = []
    for key, value in update.items():
        path = f"{prefix}{key}"
        if key not in known:
            bad.append(path)
        elif isinstance(value, dict):
            bad.extend(_unknown_keys(known[key], value, prefix=f"{path}."))
    return bad


def _deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


MAX_WEIGHT = 1e6
"""Largest reward weight ``POST /config`` accepts.

A weight is a scale factor for a component in [0, 1] or thereabouts; anything near ``1e308`` can only overflow
the weighted sum to inf (which JSON turns into ``null``), so it is refused as a mistake rather than served.
"""


def _check_values(value: Any, path: str) -> None:
    """Reject NaN/inf anywhere, and negative or huge numbers under any ``weights`` mapping."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_values(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, float) and not math.isfinite(value):
        raise EnvError(
            ErrorCode.CONFIG_INVALID, f"{path}: must be a finite number, got {value}", {"field": path}
        )
    in_weights = ".weights." in f".{path}" or path.startswith("weights.")
    if (
        in_weights
        and not isinstance(value, dict)
        and (isinstance(value, bool) or not isinstance(value, int | float))
    ):
        # checked here because the dataclass validation is lax: it would turn false into 0.0 and "2" into 2.0
        raise EnvError(
            ErrorCode.CONFIG_INVALID,
            f"{path}: a weight must be a number, got {str(value)[:40]}",
            {"field": path},
        )
    if in_weights and isinstance(value, int | float) and value < 0:
        raise EnvError(
            ErrorCode.CONFIG_INVALID, f"{path}: weights must be >= 0, got {value}", {"field": path}
        )
    if in_weights and isinstance(value, int | float) and value > MAX_WEIGHT:
        raise EnvError(
            ErrorCode.CONFIG_INVALID,
            f"{path}: weights must be <= {MAX_WEIGHT:g}, got {str(value)[:40]}",
            {"field": path, "max_weight": MAX_WEIGHT},
        )


class ConfigHolder:
    """Thread-safe holder of one environment type's reward config and its version.

    Args:
        config_type: A dataclass type with a ``schema_version`` field (str or int).
        initial: The starting config (defaults to ``config_type()``).
    """

    def __init__(self, config_type: type, initial: Any | None = None) -> None:
        if not dataclasses.is_dataclass(config_type):
            raise TypeError(f"config_type must be a dataclass, got {config_type!r}")
        if "schema_version" not in {f.name for f in dataclasses.fields(config_type)}:
            raise TypeError(f"{config_type.__name__} must declare a schema_version field")
        self.config_type = config_type
        self._adapter: TypeAdapter[Any] = TypeAdapter(config_type)
        self._lock = threading.Lock()
        self._config: Any = initial if initial is not None else config_type()
        self._version = 0
        self._json_schema: dict[str, Any] | None = None

    @property
    def schema_version(self) -> Any:
        """The schema version the environment declares."""
        return self._config.schema_version

    def get(self) -> tuple[Any, int]:
        """The current ``(config, config_version)``; the config object is never mutated afterwards."""
        with self._lock:
            return self._config, self._version

    def json_schema(self) -> dict[str, Any]:
        """JSON schema of the config dataclass (computed once: it is part of every ``/config`` answer)."""
        if self._json_schema is None:
            self._json_schema = self._adapter.json_schema()
        return copy.deepcopy(self._json_schema)

    def snapshot(self) -> dict[str, Any]:
        """The ``GET /config`` body: ``schema_version``, ``config``, ``config_version``, ``json_schema``."""
        return self._snapshot_of(*self.get())

    def _snapshot_of(self, cfg: Any, version: int) -> dict[str, Any]:
        return {
            "schema_version": cfg.schema_version,
            "config": dataclasses.asdict(cfg),
            "config_version": version,
            "json_schema": self.json_schema(),
        }

    def update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Validate a partial update and swap in the merged config, bumping ``config_version``.

        Args:
            update: A partial config (nested dicts), optionally with ``schema_version`` which must match.

        Returns:
            The new snapshot (as :meth:`snapshot`).

        Raises:
            EnvError: ``CONFIG_INVALID`` naming the offending field (unknown key, wrong type, negative weight,
                non-finite number or schema_version mismatch).
        """
        if not isinstance(update, dict):
            raise EnvError(ErrorCode.CONFIG_INVALID, "config update must be a JSON object")
        update = dict(update)
        with self._lock:
            current: Any = self._config
            if "schema_version" in update:
                sent = update.pop("schema_version")
                if str(sent) != str(current.schema_version):
                    raise EnvError(
                        ErrorCode.CONFIG_INVALID,
                        f"schema_version: server has {current.schema_version!r}, update was written for "
                        f"{sent!r}",
                        {"field": "schema_version"},
                    )
            unknown = _unknown_keys(current, update)
            if unknown:
                raise EnvError(
                    ErrorCode.CONFIG_INVALID,
                    f"unknown config field(s): {', '.join(unknown)}",
                    {"field": unknown[0]},
                )
            _check_values(update, "")
            merged = _deep_merge(dataclasses.asdict(current), update)
            try:
                new = self._adapter.validate_python(merged, strict=False)
            except ValidationError as exc:
                err = exc.errors()[0]
                field = ".".join(str(p) for p in err["loc"])
                raise EnvError(ErrorCode.CONFIG_INVALID, f"{field}: {err['msg']}", {"field": field}) from None
            except (TypeError, ValueError) as exc:  # __post_init__ validation of the dataclass
                raise EnvError(ErrorCode.CONFIG_INVALID, str(exc)) from None
            self._config = new
            self._version += 1
            version = self._version
        # Built from this update's (config, version), not re-read: a concurrent update may already have landed,
        # and the answer to a POST must describe the config that POST produced.
        return self._snapshot_of(new, version)

"""Test cases as data: ``(args, expected)`` pairs grouped into units, and the checks that compare them.

A :class:`Case` is one call of the function under test: the arguments it gets and the value the reference
solution returned. A :class:`Unit` is what one test counts as (one assert of the original tests, which may
make several calls, e.g. a loop); it passes when every case in it passes, and a unit with no case (an
``assert True`` of the original) passes whenever the submission compiles.

How an actual value is compared with the expected one is a named *check*, so that the comparison the
original test made is kept (``==``, a float tolerance, ``tuple(...) ==``, truthiness, ``is``). Checks run
in the grader, only ever on plain data (see :mod:`._plain`); environments may register more with
:func:`register_check`.
"""

from __future__ import annotations

import builtins
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._plain import decode, encode


@dataclass(frozen=True)
class Case:
    """One call of the function under test.

    Attributes:
        args: Positional arguments (plain data).
        expected: The reference solution's return value (plain data); never sent to the sandbox.
        check: Name of the comparison (see :data:`CHECKS`).
        tol: Tolerance for checks that take one (``close``, and registered ones).
    """

    args: tuple[Any, ...]
    expected: Any
    check: str = "eq"
    tol: float | None = None


@dataclass(frozen=True)
class Unit:
    """What one test counts as: it passes when all of its cases pass."""

    cases: tuple[Case, ...] = ()


Check = Callable[[Any, Case], bool]


def _eq(actual: Any, case: Case) -> bool:
    return bool(actual == case.expected)


def _close(actual: Any, case: Case) -> bool:
    # HumanEval's own form: abs(candidate(...) - expected) < tol.
    return bool(abs(actual - case.expected) < (case.tol if case.tol is not None else 1e-6))


def _tuple_eq(actual: Any, case: Case) -> bool:
    return tuple(actual) == tuple(case.expected)


def _truth(actual: Any, case: Case) -> bool:
    return bool(actual) == bool(case.expected)


def _is(actual: Any, case: Case) -> bool:
    # Only singletons survive the serializer with their identity (True, False, None).
    return actual is case.expected


CHECKS: dict[str, Check] = {"eq": _eq, "close": _close, "tuple_eq": _tuple_eq, "truth": _truth, "is": _is}
"""Comparison name -> function ``(actual, case) -> bool``."""


def register_check(name: str, check: Check) -> None:
    """Add a named comparison (for tests that check a property rather than a value).

    Raises:
        ValueError: when ``name`` is taken by a different function.
    """
    if CHECKS.get(name, check) is not check:
        raise ValueError(f"check {name!r} is already registered")
    CHECKS[name] = check


def passes(actual: Any, case: Case) -> bool:
    """Whether ``actual`` (plain data, decoded in the grader) satisfies ``case``; any error is a failure."""
    check = CHECKS.get(case.check)
    if check is None:
        raise KeyError(f"unknown check {case.check!r}; known: {sorted(CHECKS)}")
    try:
        return check(actual, case)
    except Exception:  # noqa: BLE001 - e.g. abs() of a str: the original assert would have failed too
        return False


def units_to_json(units: list[Unit] | tuple[Unit, ...]) -> str:
    """Units as one JSON string (a dataset column)."""
    return json.dumps(
        [
            [
                {"args": encode(c.args), "expected": encode(c.expected), "check": c.check, "tol": c.tol}
                for c in unit.cases
            ]
            for unit in units
        ],
        separators=(",", ":"),
        allow_nan=False,
    )


def units_from_json(text: str) -> tuple[Unit, ...]:
    """Inverse of :func:`units_to_json`.

    Raises:
        ValueError: for malformed text (the message says what is wrong).
    """
    units = []
    for i, raw in enumerate(json.loads(text)):
        cases = []
        for c in raw:
            args = decode(c["args"])
            if type(args) is not tuple:
                raise ValueError(f"unit {i}: args must be a tuple")
            cases.append(Case(args, decode(c["expected"]), str(c.get("check", "eq")), c.get("tol")))
        units.append(Unit(tuple(cases)))
    return tuple(units)


_BUILTIN_ERRORS = frozenset(
    name for name, obj in vars(builtins).items() if isinstance(obj, type) and issubclass(obj, BaseException)
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,60}")


def failure_kind(name: Any) -> str:
    """A failure name safe to show: a builtin exception's name, else ``Error``.

    The name comes from the sandbox, i.e. from the submission: a free-form string could carry test inputs
    out to the agent (an exception class named after its arguments), so only a fixed vocabulary passes.
    """
    if isinstance(name, str) and _NAME.fullmatch(name) and name in _BUILTIN_ERRORS:
        return name
    return "Error"

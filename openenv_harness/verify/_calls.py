"""Verify a submitted function by calling it in the sandbox and comparing what comes back in the grader.

The isolation guarantee, and how it is kept:

1. The submission runs only inside the sandbox, in a fresh process that sees the case *arguments* and
   never the expected values (they stay in the grader's memory).
2. Only data crosses back: each return value in the strict plain-data wire form (:mod:`._plain`), parsed
   by the grader with a decoder that builds builtin values itself. An object with a rigged ``__eq__``
   cannot be expressed; a forged, late, duplicated or garbled report line is data like any other and can
   at most claim return values, which are then compared like honest ones.
3. The comparison (:mod:`._cases` checks) runs in the grader, on plain data only.

So a submission's score is a function of the values it returns for the inputs, which is what the tests
meant to measure. What a report can still claim unchecked is ``defines`` (the submission bound the entry
point), which any submission earns honestly by defining it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from openenv_harness.sandbox import ExecResult, Sandbox

from ._callee import callee_program
from ._cases import Unit, failure_kind, passes
from ._plain import NotPlain, decode, dumps

REPORT_BYTES = 4 << 20
"""Output kept from a verification run (the return values of every case)."""


@dataclass(frozen=True)
class CallReport:
    """Outcome of verifying a submission against units of cases.

    Attributes:
        passed: Units whose every case passed.
        total: Units.
        compiles: The submission compiled (checked in the grader).
        defines_entry_point: The submission itself bound the entry point to a callable (as reported).
        failures: Why each failed unit failed: ``AssertionError`` (wrong value), a builtin exception name
            the call raised (``Error`` for any other), ``Timeout``, ``Unserializable`` (returned something
            that is not plain data) or ``NoResult`` (the run ended before that call reported).
        error: Why nothing could be scored, if so (does not compile, raised while loading, timed out).
        timed_out: The whole run hit the sandbox's wall-clock limit.
        duration_s: Wall time of the sandboxed run.
    """

    passed: int
    total: int
    compiles: bool
    defines_entry_point: bool
    failures: list[str] = field(default_factory=list)
    error: str | None = None
    timed_out: bool = False
    duration_s: float = 0.0

    @property
    def pass_fraction(self) -> float:
        """``passed / total``; 0.0 without units."""
        return self.passed / self.total if self.total else 0.0

    def summary(self) -> str:
        """One line for the agent: counts and failure kinds, nothing of the tests themselves."""
        text = f"{self.passed}/{self.total} tests passed"
        if self.failures:
            kinds: dict[str, int] = {}
            for kind in self.failures:
                kinds[kind] = kinds.get(kind, 0) + 1
            text += " (failures: " + ", ".join(f"{k} x{v}" for k, v in sorted(kinds.items())) + ")"
        if self.error:
            text += f"; {self.error}"
        return text


def compiles(code: str) -> bool:
    """Whether ``code`` compiles (in the grader: compiling runs none of it)."""
    try:
        compile(code, "<solution>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, MemoryError, RecursionError, OverflowError):
        return False
    return True


class CallVerifier:
    """Scores a submitted function with :class:`Unit` s of ``(args, expected)`` cases, in isolation.

    Args:
        units: The tests as data (ground truth: keep them server-side).
        entry_point: Name of the function the submission must define.
        prelude: Code loaded before the submission in the same namespace (e.g. a task prompt whose helpers
            the submission may call); it must contain no ground truth, the sandbox sees it.
        unit_timeout_s: Time budget of each unit (all of its calls).
    """

    def __init__(
        self, units: tuple[Unit, ...], entry_point: str, *, prelude: str = "", unit_timeout_s: float = 3.0
    ) -> None:
        self.units = units
        self.entry_point = entry_point
        self.prelude = prelude
        self.unit_timeout_s = unit_timeout_s

    def _stdin(self, code: str) -> str:
        spec: dict[str, Any] = {
            "code": code,
            "prelude": self.prelude,
            "entry_point": self.entry_point,
            "unit_timeout_s": self.unit_timeout_s,
            # Arguments only, in wire form; the expected values stay here.
            "units": [[json.loads(dumps(c.args)) for c in u.cases] for u in self.units],
        }
        return json.dumps(spec, allow_nan=False)

    def verify(self, sandbox: Sandbox, code: str, *, timeout_s: float | None = None) -> CallReport:
        """Run ``code`` in ``sandbox`` on every case and grade the returned values here."""
        if not compiles(code):
            return self._uncompiled()
        result = sandbox.run(
            callee_program(),
            "python",
            timeout_s=timeout_s,
            stdin=self._stdin(code),
            output_bytes=REPORT_BYTES,
        )
        return self.grade(result)

    async def averify(self, sandbox: Sandbox, code: str, *, timeout_s: float | None = None) -> CallReport:
        """:meth:`verify` for asyncio callers (no thread is held while the submission runs)."""
        if not compiles(code):
            return self._uncompiled()
        result = await sandbox.arun(
            callee_program(),
            "python",
            timeout_s=timeout_s,
            stdin=self._stdin(code),
            output_bytes=REPORT_BYTES,
        )
        return self.grade(result)

    def _uncompiled(self) -> CallReport:
        return CallReport(
            passed=0,
            total=len(self.units),
            compiles=False,
            defines_entry_point=False,
            failures=["NotCompiled"] * len(self.units),
            error="does not compile",
        )

    def grade(self, result: ExecResult) -> CallReport:
        """Compare the values a run reported with the expected ones (every unreported call fails)."""
        outcomes: dict[tuple[int, int], tuple[str, Any]] = {}
        load: dict[str, Any] = {}
        for line in result.stdout.splitlines():
            try:
                msg = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if type(msg) is dict and type(msg.get("load")) is dict:
                load = msg["load"]
            elif type(msg) is list and len(msg) >= 3 and type(msg[0]) is int and type(msg[1]) is int:
                # The last report of a call counts: the callee repeats all of them at the very end, so
                # lines a submission forged while it ran are overwritten. (It could still forge after
                # that, racing os._exit, but a forged line is only a claimed value, compared like any.)
                outcomes[(msg[0], msg[1])] = (str(msg[2]), msg[3] if len(msg) > 3 else None)
        failures: list[str | None] = [
            self._unit_failure(u, unit, outcomes) for u, unit in enumerate(self.units)
        ]
        error = load.get("error") if isinstance(load.get("error"), str) else None
        if result.timed_out:
            error = "the run timed out"
        elif not load:
            error = f"the run died before reporting (exit {result.exit_code})"
        return CallReport(
            passed=sum(1 for f in failures if f is None),
            total=len(self.units),
            compiles=True,
            defines_entry_point=load.get("defines") is True,
            failures=[f for f in failures if f is not None],
            error=_safe_error(error),
            timed_out=result.timed_out,
            duration_s=result.duration_s,
        )

    @staticmethod
    def _unit_failure(u: int, unit: Unit, outcomes: dict[tuple[int, int], tuple[str, Any]]) -> str | None:
        for c, case in enumerate(unit.cases):
            kind, payload = outcomes.get((u, c), ("missing", None))
            if kind == "r":
                try:
                    actual = decode(payload)
                except (NotPlain, RecursionError):
                    return "Unserializable"
                if not passes(actual, case):
                    return "AssertionError"
            elif kind == "x":
                return failure_kind(payload)
            elif kind == "n":
                return "Unserializable"
            elif kind == "t":
                return "Timeout"
            else:
                return "NoResult"
        return None


def _safe_error(error: str | None) -> str | None:
    """The load error with any submission-chosen name reduced to a safe failure kind."""
    if error is None:
        return None
    if error.startswith("solution raised ") and error.endswith(" while loading"):
        return f"solution raised {failure_kind(error[len('solution raised ') : -len(' while loading')])} while loading"
    if error.startswith("the run "):
        return error
    return "does not compile" if error.startswith("does not compile") else "Error"

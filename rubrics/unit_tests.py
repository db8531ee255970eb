"""Unit-test pass fraction: run a task's tests against submitted code in a sandbox.

HumanEval-style tests are one function ``check(candidate)`` holding many asserts, so an all-or-nothing
run would give no partial credit. (Tests without a ``check`` function, MBPP-style module-level asserts,
work too: then the module's top-level statements are the units and setup, with ``candidate`` bound.) :data:`HARNESS` splits ``check``'s body into its top-level statements
and runs them one by one against the candidate (sharing one namespace, so setup statements such as
``x = ...`` keep working): every statement that contains an ``assert`` anywhere (a bare assert, or a loop
of asserts) is one *unit*; the others are setup. The pass fraction is ``passed units / units``. Each unit
gets its own time limit (``SIGALRM``), so one hanging case fails alone; the sandbox's wall clock bounds
the whole run.

Scoring is split from running: :func:`run_unit_tests` runs the tests and the environment puts the counts
on the observation (``tests_passed``, ``tests_total``, ``compiles``); the rubrics :class:`PassFraction` and
:class:`Compiles` read them there, so a stored observation can be re-scored offline.

What is reported back is only counts, the exception *type* of each failed unit and whether the code
compiled and defined the entry point: never the test source, its inputs or the candidate's output (which
may echo hidden inputs).

Limits, stated plainly: the tests run in the submission's own process, as in HumanEval's harness. The
sandbox contains what a submission can do to the host; it does not stop a submission written to game its
own score (for example returning an object whose ``==`` is always true, or forging the report line). The
report line carries a random nonce so that ordinary output cannot be mistaken for it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from openenv_harness.rubric import Rubric, RubricError
from openenv_harness.sandbox import ExecResult, Sandbox

HARNESS = r"""
import ast, json, os, signal, sys
_spec = json.loads(sys.stdin.read())
_out = os.dup(1)
_nonce = _spec.pop("nonce")
_report = {"compiles": False, "defines": False, "units": [], "setup_errors": [], "error": None}
def _emit():
    os.write(_out, ("\n" + _nonce + json.dumps(_report) + "\n").encode())
class _UnitTimeout(BaseException):
    pass
def _alarm(signum, frame):
    raise _UnitTimeout()
signal.signal(signal.SIGALRM, _alarm)
def _run(code, ns):
    signal.setitimer(signal.ITIMER_REAL, _spec["unit_timeout_s"])
    try:
        exec(code, ns)
        return None
    except _UnitTimeout:
        return "Timeout"
    except BaseException as exc:
        return type(exc).__name__
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
try:
    _code = compile(_spec["code"], "<solution>", "exec")
    _report["compiles"] = True
except BaseException as exc:
    _report["error"] = "does not compile: " + type(exc).__name__
    _emit()
    sys.exit(0)
_ns = {"__name__": "__solution__"}
if _spec.get("prelude"):
    _run(compile(_spec["prelude"], "<prompt>", "exec"), _ns)
_before = _ns.get(_spec["entry_point"])
_err = _run(_code, _ns)
if _err is not None:
    _report["error"] = "solution raised " + _err + " while loading"
_cand = _ns.get(_spec["entry_point"])
_report["defines"] = callable(_cand) and _cand is not _before
_tree = ast.parse(_spec["test"])
_check = [n for n in _tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"]
_tns = _ns
if _check:
    exec(compile(ast.Module([n for n in _tree.body if n not in _check], []), "<tests>", "exec"), _tns)
    _fn = _check[0]
    _tns[_fn.args.args[0].arg if _fn.args.args else "candidate"] = _cand
    _stmts = _fn.body
else:
    _tns["candidate"] = _cand
    _stmts = _tree.body
for _stmt in _stmts:
    _is_unit = any(isinstance(n, ast.Assert) for n in ast.walk(_stmt))
    _e = _run(compile(ast.Module([_stmt], []), "<tests>", "exec"), _tns)
    if _is_unit:
        _report["units"].append(_e)
    elif _e is not None:
        _report["setup_errors"].append(_e)
_emit()
"""
"""The program run inside the sandbox; reads ``{code, test, entry_point, prelude, unit_timeout_s, nonce}``
on stdin. Like HumanEval's own harness, the tests run in the solution's namespace (some call helpers the
prompt defines); the ``prelude`` (the task prompt) is loaded first, so those helpers exist even when the
submission only redefines the entry point."""


@dataclass(frozen=True)
class UnitTestReport:
    """Outcome of running a task's unit tests against a submission.

    Attributes:
        passed: Units that passed.
        total: Units found in the tests (0 when the run never reported).
        compiles: The submission compiled.
        defines_entry_point: The submission itself (not the prelude) bound the entry point to a callable.
        failures: Exception type name of each failed unit (``Timeout`` for a unit over its time limit).
        error: Why nothing could be scored, if so (does not compile, raised while loading, run timed out).
        timed_out: The whole run hit the sandbox's wall-clock limit.
        duration_s: Wall time of the run.
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
        """``passed / total``; 0.0 when there were no units or no report."""
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


def _count_units(test: str) -> int:
    """Units in ``test`` (used when the run died before reporting, so the fraction has its true denominator)."""
    import ast

    try:
        tree = ast.parse(test)
    except SyntaxError:
        return 0
    body = tree.body
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "check":
            body = node.body
            break
    return sum(1 for s in body if any(isinstance(n, ast.Assert) for n in ast.walk(s)))


def run_unit_tests(
    sandbox: Sandbox,
    code: str,
    test: str,
    entry_point: str,
    *,
    prelude: str = "",
    unit_timeout_s: float = 3.0,
    timeout_s: float | None = None,
) -> UnitTestReport:
    """Run HumanEval-style ``test`` (defining ``check(candidate)``) against ``code`` in ``sandbox``.

    Args:
        sandbox: The episode's sandbox (the work dir is the submission's current directory).
        code: The submitted program; it must define ``entry_point``.
        test: Test source with a ``check(candidate)`` function.
        entry_point: Name of the function under test.
        prelude: Code loaded before the submission (the task prompt), in the same namespace.
        unit_timeout_s: Time limit of each unit.
        timeout_s: Wall-clock limit of the whole run (the sandbox's limit when None).

    Returns:
        The :class:`UnitTestReport`.
    """
    nonce, stdin = _spec(code, test, entry_point, prelude, unit_timeout_s)
    result = sandbox.run(HARNESS, "python", timeout_s=timeout_s, stdin=stdin)
    return _report(result, nonce, test)


async def arun_unit_tests(
    sandbox: Sandbox,
    code: str,
    test: str,
    entry_point: str,
    *,
    prelude: str = "",
    unit_timeout_s: float = 3.0,
    timeout_s: float | None = None,
) -> UnitTestReport:
    """:func:`run_unit_tests` for asyncio callers (the program runs without holding a thread)."""
    nonce, stdin = _spec(code, test, entry_point, prelude, unit_timeout_s)
    result = await sandbox.arun(HARNESS, "python", timeout_s=timeout_s, stdin=stdin)
    return _report(result, nonce, test)


def _spec(code: str, test: str, entry_point: str, prelude: str, unit_timeout_s: float) -> tuple[str, str]:
    nonce = "@@UNITTEST-" + secrets.token_hex(12) + "@@"
    spec: dict[str, Any] = {
        "code": code,
        "test": test,
        "entry_point": entry_point,
        "prelude": prelude,
        "unit_timeout_s": unit_timeout_s,
        "nonce": nonce,
    }
    return nonce, json.dumps(spec)


def _report(result: ExecResult, nonce: str, test: str) -> UnitTestReport:
    report: dict[str, Any] | None = None
    for line in reversed(result.stdout.splitlines()):
        if line.startswith(nonce):
            try:
                report = json.loads(line[len(nonce) :])
            except json.JSONDecodeError:
                report = None
            break
    if report is None:
        why = "the test run timed out" if result.timed_out else f"the test run died (exit {result.exit_code})"
        if result.truncated:
            why += " after flooding its output"
        return UnitTestReport(
            passed=0,
            total=_count_units(test),
            compiles=False,
            defines_entry_point=False,
            error=why,
            timed_out=result.timed_out,
            duration_s=result.duration_s,
        )
    units = [u if isinstance(u, str | None) else "Error" for u in report.get("units", [])]
    if not report.get("compiles"):
        # Nothing ran: every unit of the task failed (the denominator stays the task's own).
        units = ["NotCompiled"] * _count_units(test)
    return UnitTestReport(
        passed=sum(1 for u in units if u is None),
        total=len(units),
        compiles=bool(report.get("compiles")),
        defines_entry_point=bool(report.get("defines")),
        failures=[u for u in units if u is not None],
        error=report.get("error"),
        timed_out=result.timed_out,
        duration_s=result.duration_s,
    )


def _field(observation: Any, name: str) -> Any:
    if isinstance(observation, dict):
        return observation.get(name)
    return getattr(observation, name, None)


class PassFraction(Rubric):
    """``tests_passed / tests_total`` of a scored submission (0.0 when no unit ran)."""

    def forward(self, action: Any, observation: Any) -> float:
        """Read the counts :func:`run_unit_tests` produced from the observation."""
        passed, total = _field(observation, "tests_passed"), _field(observation, "tests_total")
        if passed is None or total is None:
            raise RubricError(
                "PassFraction: the observation has no tests_passed/tests_total (not a submission)"
            )
        return float(passed) / float(total) if total else 0.0


class Compiles(Rubric):
    """1.0 when the submission compiled and defined the entry point (observation field ``compiles``)."""

    def forward(self, action: Any, observation: Any) -> float:
        """Read ``compiles`` from the observation."""
        value = _field(observation, "compiles")
        if value is None:
            raise RubricError("Compiles: the observation has no compiles field (not a submission)")
        return 1.0 if value else 0.0

"""Turn HumanEval-style assert tests into ``(args, expected)`` cases, once, from the reference solution.

HumanEval's ``check(candidate)`` is one function holding many asserts (tests without ``check``,
MBPP-style module-level asserts on ``candidate``, work the same way). Each top-level statement of its
body that contains an ``assert`` is one :class:`~openenv_harness.verify.Unit` (a bare assert, or a loop of
asserts); the other statements are setup. Each call of ``candidate`` inside a unit becomes one
:class:`~openenv_harness.verify.Case`: the arguments, and what the *reference solution* returns for them
(the tests are run once, with ``candidate`` bound to the reference, recording every call). Random inputs
are drawn then, once, and frozen.

The comparison each assert made is kept as the case's check:

=====================================================  ==========================================
assert form                                            check
=====================================================  ==========================================
``candidate(...) == E``                                ``eq``
``tuple(candidate(...)) == tuple(E)``                  ``tuple_eq``
``tuple(candidate(...)) == tuple(entry_point(...))``   ``tuple_self`` (see below)
``abs(candidate(...) - E) < tol`` (or ``math.fabs``)   ``close`` with that ``tol`` (e.g. 1e-6)
``candidate(...)`` / ``not candidate(...)``            ``truth``
``candidate(...) is True`` (``False``, ``None``)       ``is``
HumanEval/32: ``fabs(poly(coeffs, candidate(...)))``   ``poly_root`` (any root within 1e-4)
=====================================================  ==========================================

HumanEval runs its tests in the submission's namespace, so where a test compares with the task's own
function by name (three asserts of HumanEval/33), it compares the candidate with itself: such an assert
passes whenever ``tuple()`` of the returned value works, and ``tuple_self`` keeps exactly that.

Any other form is refused with :class:`ConversionError` naming the task and the assert, rather than
guessed. Unseeded random draws are seeded (``random.seed(0)``) so a rebuild gives the same cases.
The recording run executes the reference solution and the tests, so it happens in a sandbox too
(only plain data comes back, through the strict serializer).
"""

from __future__ import annotations

import ast
import inspect
import json
import math
from typing import Any

from openenv_harness.sandbox import Sandbox, SandboxConfig
from openenv_harness.verify import REPORT_BYTES, Case, Unit, loads, register_check
from openenv_harness.verify import _plain as plain

PROPERTY_CALLS: dict[str, tuple[str | None, float | None]] = {"HumanEval/32": ("poly_root", 1e-4)}
"""Tasks whose tests check a property of the result, not its value: the check used for their calls."""


class ConversionError(ValueError):
    """A task's tests could not be turned into cases (the message names the task and the statement)."""


def _poly_root(actual: Any, case: Case) -> bool:
    # HumanEval/32's own test: math.fabs(poly(coeffs, solution)) < 1e-4, poly as its prompt defines it.
    coeffs = case.args[0]
    value = sum(coeff * math.pow(actual, i) for i, coeff in enumerate(coeffs))
    return math.fabs(value) < (case.tol if case.tol is not None else 1e-4)


def _tuple_self(actual: Any, case: Case) -> bool:
    return tuple(actual) == tuple(actual)


register_check("poly_root", _poly_root)
register_check("tuple_self", _tuple_self)


def _is_candidate(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


def _calls_name(node: ast.AST, name: str) -> bool:
    return any(_is_candidate(n, name) for n in ast.walk(node))


def _classify(test: ast.expr, name: str, entry_point: str) -> tuple[ast.Call, str, float | None] | None:
    """The candidate call an assert makes and how it compares it, or None for an unknown form.

    ``entry_point`` matters because HumanEval runs its tests in the submission's namespace: a test that
    compares with ``entry_point(...)`` (HumanEval/33) compares the candidate with itself.
    """
    if _is_candidate(test, name):
        return test, "truth", None  # type: ignore[return-value]
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and _is_candidate(test.operand, name):
        return test.operand, "truth", None  # type: ignore[return-value]
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    left, op, right = test.left, test.ops[0], test.comparators[0]
    if isinstance(op, ast.Eq):
        if _is_candidate(left, name):
            return left, "eq", None  # type: ignore[return-value]
        if (
            isinstance(left, ast.Call)
            and ast.unparse(left.func) == "tuple"
            and _is_candidate(left.args[0], name)
        ):
            kind = "tuple_self" if _calls_name(right, entry_point) else "tuple_eq"
            return left.args[0], kind, None  # type: ignore[return-value]
    if isinstance(op, ast.Is) and _is_candidate(left, name) and isinstance(right, ast.Constant):
        return left, "is", None  # type: ignore[return-value]
    if (
        isinstance(op, ast.Lt)
        and isinstance(left, ast.Call)
        and ast.unparse(left.func) in ("abs", "math.fabs")
        and isinstance(left.args[0], ast.BinOp)
        and isinstance(left.args[0].op, ast.Sub)
        and _is_candidate(left.args[0].left, name)
    ):
        return left.args[0].left, "close", float(ast.literal_eval(right))  # type: ignore[return-value]
    return None


class _Rewriter(ast.NodeTransformer):
    """Replace each candidate call with ``__rec__(unit, check, tol, *args)``."""

    def __init__(self, name: str, unit: int, task_id: str, entry_point: str) -> None:
        self.name, self.unit, self.task_id, self.entry_point = name, unit, task_id, entry_point
        self.kinds: dict[int, tuple[str, float | None]] = {}

    def visit_Assert(self, node: ast.Assert) -> ast.AST:
        node.msg = None  # only evaluated when the assert fails; some call candidate again for the message
        found = _classify(node.test, self.name, self.entry_point)
        if found is None:
            if _calls_name(node.test, self.name):
                raise ConversionError(f"{self.task_id}: unsupported assert form: {ast.unparse(node)[:200]}")
        else:
            self.kinds[id(found[0])] = found[1:]
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if not _is_candidate(node, self.name):
            return node
        kind, tol = self.kinds.get(id(node)) or PROPERTY_CALLS.get(self.task_id, (None, None))
        if kind is None:
            raise ConversionError(f"{self.task_id}: candidate called outside an assert it can be tied to")
        if node.keywords:
            raise ConversionError(f"{self.task_id}: keyword arguments are not supported")
        rec = [ast.Constant(self.unit), ast.Constant(kind), ast.Constant(tol)]
        return ast.copy_location(ast.Call(ast.Name("__rec__", ast.Load()), rec + node.args, []), node)


def plan(task_id: str, test: str, entry_point: str) -> dict[str, Any]:
    """The recording run's inputs: module-level test code, check's parameter, rewritten statements."""
    tree = ast.parse(test)
    checks = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"]
    if len(checks) > 1:
        raise ConversionError(f"{task_id}: the tests define check() more than once")
    if checks:
        check = checks[0]
        name = check.args.args[0].arg if check.args.args else "candidate"
        module = ast.unparse(ast.Module([n for n in tree.body if n is not check], []))
        body = check.body
    else:  # MBPP-style module-level asserts on a global ``candidate``
        name, module, body = "candidate", "", tree.body
    stmts: list[tuple[int | None, str]] = []
    units = 0
    for stmt in body:
        is_unit = any(isinstance(n, ast.Assert) for n in ast.walk(stmt))
        if not is_unit and _calls_name(stmt, name):
            raise ConversionError(
                f"{task_id}: candidate called in a setup statement: {ast.unparse(stmt)[:200]}"
            )
        if is_unit:
            rewritten = _Rewriter(name, units, task_id, entry_point).visit(stmt)
            stmts.append((units, ast.unparse(ast.fix_missing_locations(rewritten))))
            units += 1
        else:
            stmts.append((None, ast.unparse(stmt)))
    return {"module": module, "param": name, "stmts": stmts, "units": units}


_RECORD = r"""
import sys as _sys


def _main():
    spec = json.loads(_sys.stdin.read())
    ns = {"__name__": "__reference__"}
    exec(spec["solution"], ns)
    ref = ns[spec["entry_point"]]
    exec(spec["module"], ns)
    records = [[] for _ in range(spec["units"])]

    def rec(unit, check, tol, *args):
        wire = encode(tuple(args))  # before the call: the reference may mutate its arguments
        value = ref(*args)
        records[unit].append({"args": wire, "expected": encode(value), "check": check, "tol": tol})
        return value

    ns[spec["param"]] = ref
    ns["__rec__"] = rec
    import random

    random.seed(0)  # tests that draw unseeded random inputs: the same cases on every rebuild
    for unit, source in spec["stmts"]:
        exec(source, ns)
    print(json.dumps(records, allow_nan=False))


_main()
"""


def convert(
    task_id: str, solution: str, test: str, entry_point: str, sandbox: Sandbox | None = None
) -> tuple[Unit, ...]:
    """The task's tests as units of cases, recorded from ``solution`` (prompt + reference body).

    Args:
        task_id: For error messages and property-check overrides.
        solution: Code that defines the reference ``entry_point``.
        test: HumanEval-style tests (a ``check(candidate)`` function).
        entry_point: The function under test.
        sandbox: Where the recording run happens (a fresh bubblewrap sandbox when None).

    Raises:
        ConversionError: for test forms it does not know, or when the reference fails its own tests.
    """
    spec = {**plan(task_id, test, entry_point), "solution": solution, "entry_point": entry_point}
    own = sandbox is None
    box = sandbox or Sandbox(SandboxConfig())
    try:
        result = box.run(
            inspect.getsource(plain) + _RECORD,
            "python",
            stdin=json.dumps(spec),
            output_bytes=REPORT_BYTES,
        )
    finally:
        if own:
            box.close()
    if not result.ok:
        raise ConversionError(f"{task_id}: the reference run failed: {result.stderr.strip()[-500:]}")
    raw = json.loads(result.stdout)
    units = []
    for cases in raw:
        units.append(
            Unit(
                tuple(
                    Case(loads(json.dumps(c["args"])), loads(json.dumps(c["expected"])), c["check"], c["tol"])
                    for c in cases
                )
            )
        )
    return tuple(units)

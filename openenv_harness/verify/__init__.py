r"""Verifier isolation: grade a submission where its code never ran and cannot reach.

The submission runs in a sandbox; only plain data (numbers, strings, bools, None, lists, tuples, dicts,
sets) crosses back, through a strict serializer; the comparison with the expected values happens here, in
the trusted grader. Any environment that scores code by calling it can use it::

    from openenv_harness.verify import Case, CallVerifier, Unit

    units = (Unit((Case(args=(1,), expected=2),)), Unit((Case((2.0,), 3.0, check="close", tol=1e-6),)))
    report = CallVerifier(units, "inc").verify(sandbox, "def inc(x):\n    return x + 1\n")
    report.passed, report.total  # (2, 2)

See :mod:`openenv_harness.verify._calls` for what the guarantee rests on.
"""

from ._calls import REPORT_BYTES, CallReport, CallVerifier, compiles
from ._cases import (
    CHECKS,
    Case,
    Check,
    Unit,
    failure_kind,
    passes,
    register_check,
    units_from_json,
    units_to_json,
)
from ._plain import MAX_DEPTH, NotPlain, decode, dumps, encode, loads

__all__ = [
    "CHECKS",
    "MAX_DEPTH",
    "REPORT_BYTES",
    "CallReport",
    "CallVerifier",
    "Case",
    "Check",
    "NotPlain",
    "Unit",
    "compiles",
    "decode",
    "dumps",
    "encode",
    "failure_kind",
    "loads",
    "passes",
    "register_check",
    "units_from_json",
    "units_to_json",
]

"""Conformance checking of environments: ``check_env(target, oracle=...) -> CheckReport``.

Example::

    from openenv_harness.checks import check_env
    report = check_env(ArithEnvironment, oracle="envs.arith.oracle")
    report.raise_for_failures()

The same call checks an environment as served: pass an ``InProcessProvider`` or a ``LocalProcessProvider``
(sessions over WS) instead of the class. From the shell: ``python -m openenv_harness.checks arith --served ws``.
"""

from ._check import check_env
from ._oracle import EnvOracle, null_from_schema
from ._report import CheckReport, CheckResult, ConformanceError

__all__ = ["CheckReport", "CheckResult", "ConformanceError", "EnvOracle", "check_env", "null_from_schema"]

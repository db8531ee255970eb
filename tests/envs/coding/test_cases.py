"""envs/coding/cases.py + rubrics/unit_tests.py: assert tests become (args, expected) units, graded outside."""

from __future__ import annotations

import pytest

from envs.coding.cases import ConversionError, convert, plan
from openenv_harness.rubric import RubricError, WeightedSum
from openenv_harness.sandbox import Sandbox, SandboxConfig, SandboxLimits, bwrap_problem
from openenv_harness.verify import CallVerifier, Unit
from rubrics.unit_tests import Compiles, PassFraction, UnitTestReport

pytestmark = pytest.mark.skipif(bwrap_problem() is not None, reason="bwrap unavailable")

REFERENCE = "def inc(x):\n    return x + 1\n"
CHECK_TESTS = """
def check(candidate):
    data = [1, 2, 3]
    assert candidate(1) == 2
    assert candidate(data[1]) == 3, "message " + str(candidate(data[1]))
    for x in range(3):
        assert candidate(x) == x + 1
    assert candidate(-1) == 0
    assert True
"""
MODULE_TESTS = "assert candidate(1) == 2\nassert abs(candidate(5) - 6) < 1e-6\nassert candidate(0)\n"


@pytest.fixture(scope="module")
def box():
    with Sandbox(SandboxConfig(limits=SandboxLimits(wall_s=5))) as sb:
        yield sb


def grade(box: Sandbox, code: str, tests: str = CHECK_TESTS, prelude: str = "", **kw) -> UnitTestReport:
    units = convert("t", REFERENCE, tests, "inc", box)
    return CallVerifier(units, "inc", prelude=prelude, unit_timeout_s=kw.pop("unit_timeout_s", 3.0)).verify(
        box, code, **kw
    )


def test_each_top_level_assert_is_a_unit_of_recorded_cases(box: Sandbox) -> None:
    units = convert("t", REFERENCE, CHECK_TESTS, "inc", box)
    assert [len(u.cases) for u in units] == [1, 1, 3, 1, 0]  # the loop is one unit of three calls
    assert units[2].cases[2].args == (2,) and units[2].cases[2].expected == 3
    r = grade(box, REFERENCE)
    assert (r.passed, r.total, r.compiles, r.defines_entry_point) == (5, 5, True, True)
    r = grade(box, "def inc(x):\n    return x + 1 if x > 0 else 0\n")
    assert (r.passed, r.total) == (4, 5) and r.failures == ["AssertionError"]  # the loop unit fails at x=0
    assert r.pass_fraction == 0.8 and "4/5 tests passed" in r.summary()


def test_module_level_asserts_keep_their_comparison(box: Sandbox) -> None:
    units = convert("t", REFERENCE, MODULE_TESTS, "inc", box)
    assert [u.cases[0].check for u in units] == ["eq", "close", "truth"]
    assert units[1].cases[0].tol == 1e-6
    r = grade(box, "def inc(x):\n    return x + 1.0000001\n", MODULE_TESTS)
    assert (r.passed, r.total) == (2, 3)  # within 1e-6 passes; == 2 does not


def test_unknown_assert_forms_are_refused_not_guessed(box: Sandbox) -> None:
    with pytest.raises(ConversionError, match="unsupported assert form"):
        plan("t", "def check(candidate):\n    assert candidate(1) > 0\n", "inc")
    with pytest.raises(ConversionError, match="reference run failed"):
        convert("t", REFERENCE, "def check(candidate):\n    assert candidate(1) == 5\n", "inc", box)


def test_prelude_is_loaded_first_and_does_not_count_as_defining(box: Sandbox) -> None:
    prelude = "def helper(x):\n    return x + 1\n\ndef inc(x):\n    '''docstring only'''\n"
    r = grade(box, "def inc(x):\n    return helper(x)\n", prelude=prelude)
    assert r.passed == 5 and r.defines_entry_point
    r = grade(box, "", prelude=prelude)
    assert not r.defines_entry_point and r.passed == 1  # only the `assert True` unit


def test_a_run_that_never_reports_fails_every_call(box: Sandbox) -> None:
    r = grade(box, "import os\nos._exit(0)\n")
    assert (r.passed, r.total, r.compiles) == (1, 5, True) and "died" in (r.error or "")
    r = grade(box, "while True:\n    pass\n", unit_timeout_s=10, timeout_s=1)
    assert r.timed_out and r.total == 5 and r.passed == 1
    r = grade(box, "def inc(x) return 1\n")
    assert (r.passed, r.compiles) == (0, False) and r.failures == ["NotCompiled"] * 5


def test_rubrics_read_the_observation() -> None:
    tree = WeightedSum({"tests": PassFraction(), "compiles": Compiles()})
    obs = {"tests_passed": 3, "tests_total": 4, "compiles": True}
    result = tree.score({"code": "x"}, obs, weights={"tests": 1.0, "compiles": 0.1})
    assert result.components == {"tests": 0.75, "compiles": 1.0}
    assert result.reward == pytest.approx(0.85)
    assert PassFraction()({"code": ""}, {"tests_passed": 0, "tests_total": 0, "compiles": False}) == 0.0
    with pytest.raises(RubricError, match="not a submission"):
        PassFraction()({"code": ""}, {"tests_passed": None, "tests_total": None})
    with pytest.raises(RubricError, match="not a submission"):
        Compiles()({"code": ""}, {})


def test_report_summary_groups_failures() -> None:
    r = UnitTestReport(1, 4, True, True, failures=["Timeout", "AssertionError", "AssertionError"])
    assert r.summary() == "1/4 tests passed (failures: AssertionError x2, Timeout x1)"
    assert Unit().cases == ()

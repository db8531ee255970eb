"""rubrics/unit_tests.py: per-assert units, both test styles, reports that die, the two rubrics."""

from __future__ import annotations

import pytest

from openenv_harness.rubric import RubricError, WeightedSum
from openenv_harness.sandbox import Sandbox, SandboxConfig, SandboxLimits, bwrap_problem
from rubrics.unit_tests import Compiles, PassFraction, UnitTestReport, run_unit_tests

pytestmark = pytest.mark.skipif(bwrap_problem() is not None, reason="bwrap unavailable")

CHECK_TESTS = """
def check(candidate):
    data = [1, 2, 3]
    assert candidate(1) == 2
    assert candidate(data[1]) == 3
    for x in range(3):
        assert candidate(x) == x + 1
    assert candidate(-1) == 0
"""
MODULE_TESTS = "assert candidate(1) == 2\nassert candidate(5) == 6\nassert candidate(0) == 99\n"


@pytest.fixture(scope="module")
def box():
    with Sandbox(SandboxConfig(limits=SandboxLimits(wall_s=5))) as sb:
        yield sb


def test_each_top_level_assert_is_a_unit(box: Sandbox) -> None:
    r = run_unit_tests(box, "def inc(x):\n    return x + 1\n", CHECK_TESTS, "inc")
    assert (r.passed, r.total, r.compiles, r.defines_entry_point) == (4, 4, True, True)
    r = run_unit_tests(box, "def inc(x):\n    return x + 1 if x > 0 else 0\n", CHECK_TESTS, "inc")
    assert (r.passed, r.total) == (3, 4) and r.failures == ["AssertionError"]  # the loop unit fails at x=0
    assert r.pass_fraction == 0.75 and "3/4 tests passed" in r.summary()


def test_module_level_asserts_without_check(box: Sandbox) -> None:
    r = run_unit_tests(box, "def inc(x):\n    return x + 1\n", MODULE_TESTS, "inc")
    assert (r.passed, r.total) == (2, 3)


def test_prelude_is_loaded_first_and_does_not_count_as_defining(box: Sandbox) -> None:
    prelude = "def helper(x):\n    return x + 1\n\ndef inc(x):\n    '''docstring only'''\n"
    r = run_unit_tests(box, "def inc(x):\n    return helper(x)\n", CHECK_TESTS, "inc", prelude=prelude)
    assert r.passed == 4 and r.defines_entry_point
    r = run_unit_tests(box, "", CHECK_TESTS, "inc", prelude=prelude)
    assert not r.defines_entry_point and r.passed == 0


def test_a_run_that_never_reports_scores_zero_with_the_true_denominator(box: Sandbox) -> None:
    r = run_unit_tests(box, "import os\nos._exit(0)\n", CHECK_TESTS, "inc")
    assert (r.passed, r.total, r.compiles) == (0, 4, False) and "died" in (r.error or "")
    r = run_unit_tests(box, "while True:\n    pass\n", CHECK_TESTS, "inc", unit_timeout_s=10, timeout_s=1)
    assert r.timed_out and r.total == 4 and r.passed == 0


def test_printed_fake_reports_do_not_count(box: Sandbox) -> None:
    fake = 'print("@@UNITTEST-0000@@" + \'{"compiles": true, "defines": true, "units": [null, null, null, null]}\')\n'
    r = run_unit_tests(box, fake + "def inc(x):\n    return 0\n", CHECK_TESTS, "inc")
    assert r.passed == 1 and r.total == 4  # only candidate(-1) == 0 holds; the forged line is ignored


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

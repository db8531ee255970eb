"""check_no_leak: finds ground truth anywhere in what the agent sees, never prints it."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from openenv_harness.tasks import LeakError, assert_no_leak, check_no_leak

HIDDEN = {"test": "def check(candidate):\n    assert candidate(1) == 2\n", "answer": "12"}


def test_clean_observation_passes() -> None:
    assert check_no_leak({"prompt": "def f(x):", "question": "What is 5 + 7?", "n": 12}, HIDDEN) == []


@pytest.mark.parametrize(
    ("observed", "path"),
    [
        ({"prompt": "hint: " + HIDDEN["test"]}, "prompt"),
        ({"a": [{"b": {"c": "xx" + HIDDEN["test"][:-1] + "\n yy"}}]}, "a[0].b.c"),
        ({"feedback": " 12 "}, "feedback"),  # short value: whole-leaf equality
        ([{"stdout": "12"}], "[0].stdout"),
    ],
)
def test_leaks_are_found_with_their_path(observed: object, path: str) -> None:
    findings = check_no_leak(observed, HIDDEN)
    assert findings and findings[0].startswith(path)
    for f in findings:
        assert HIDDEN["test"] not in f and "'12'" not in f  # messages name columns, never values


def test_hidden_column_name_as_key_is_a_leak() -> None:
    assert check_no_leak({"meta": {"answer": None}}, HIDDEN) == [
        "meta.answer: key named after hidden column 'answer'"
    ]


def test_short_values_are_not_substring_matched() -> None:
    # "12" inside a longer question is legitimate (e.g. "What is 12 + 0?" has answer 12).
    assert check_no_leak({"question": "What is 12 + 0?"}, {"answer": "12"}) == []


def test_nested_hidden_values_and_models() -> None:
    class Obs(BaseModel):
        text: str

    hidden = {"tests": ["assert f(1) == 'alpha-beta'", "assert f(2) == 3"]}
    assert check_no_leak(Obs(text="x assert f(1) == 'alpha-beta' y"), hidden)
    with pytest.raises(LeakError, match="text: contains the value of hidden column 'tests'"):
        assert_no_leak(Obs(text="assert f(2) == 3"), hidden, min_len=100)

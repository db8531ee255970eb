import pytest

from openenv_harness.rubric import RubricError, WeightedSum
from openenv_harness.spec import Action
from rubrics.format import JsonFormat, RegexMatch
from rubrics.judge import ReferenceJudge
from rubrics.length import LengthPenalty
from rubrics.match import ExactMatch, NumericMatch, extract_final_number


class Reply(Action):
    answer: str


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("The total is 1,234.5.", 1234.5),
        ("first 3 then -17", -17.0),
        ("about 2.5e3 units", 2500.0),
        ("half: 1/2", 0.5),
        ("no digits here", None),
        ("step 2: x = .25", 0.25),
        ("#### 72", 72.0),
    ],
)
def test_extract_final_number(text, value):
    assert extract_final_number(text) == value


def test_exact_match_normalisation_and_lists():
    r = ExactMatch()
    r.reset(context={"answer": "Paris"})
    assert r(" paris. ", None) == 1.0 and r(Reply(answer="PARIS"), None) == 1.0 and r("Lyon", None) == 0.0
    strict = ExactMatch(case_sensitive=True, strip_punctuation=False)
    strict.reset(context={"answer": ["Paris", "Paris, France"]})
    assert (
        strict("Paris,  France", None) == 1.0
        and strict("paris", None) == 0.0
        and strict("Paris.", None) == 0.0
    )


def test_missing_reference_is_an_error_not_a_zero():
    res = WeightedSum({"correct": NumericMatch()}).score("42", None)
    assert res.reward is None and "episode context has no 'answer'" in res.errors["correct"]


def test_numeric_match_tolerances():
    r = NumericMatch(abs_tol=0.01)
    r.reset(context={"answer": 3.14159})
    assert r("pi is roughly 3.14", None) == 1.0 and r("pi is 3.16", None) == 0.0
    r.reset(context={"answer": "3.1"})
    assert r("I think 3.105", None) == 1.0 and r("3.2", None) == 0.0 and r("no idea", None) == 0.0
    rel = NumericMatch(rel_tol=0.01, abs_tol=0.0)
    rel.reset(context={"answer": 1000})
    assert rel("1,009", None) == 1.0 and rel("1,011", None) == 0.0
    bad = NumericMatch()
    bad.reset(context={"answer": "unknown"})
    with pytest.raises(RubricError, match="contains no number"):
        bad("1", None)


def test_regex_and_json_format():
    boxed = RegexMatch(pattern=r"\\boxed\{[^}]+\}")
    assert boxed("so \\boxed{4}", None) == 1.0 and boxed("4", None) == 0.0
    full = RegexMatch(pattern=r"answer: \d+", mode="fullmatch", flags=["IGNORECASE"])
    assert full("  Answer: 12 ", None) == 1.0 and full("Answer: 12 because", None) == 0.0
    assert RegexMatch(pattern="sorry", negate=True)("Sure.", None) == 1.0
    with pytest.raises(RubricError, match="not a valid regex"):
        RegexMatch(pattern="(")
    with pytest.raises(RubricError, match="unknown"):
        RegexMatch(flags=["VERBOSE"])
    js = JsonFormat(required_keys=["a"])
    assert js('{"a": 1}', None) == 1.0 and js('{"b": 1}', None) == 0.0 and js("nope", None) == 0.0


def test_length_penalty():
    r = LengthPenalty(max_length=10, span=10)
    assert r("x" * 10, None) == 0.0 and r("x" * 15, None) == -0.5 and r("x" * 100, None) == -1.0
    words = LengthPenalty(max_length=2, unit="words")
    assert words("a b c", None) == -0.5
    with pytest.raises(RubricError, match="unit"):
        LengthPenalty(unit="tokens")


def test_reference_judge_prompt_uses_context():
    j = ReferenceJudge(model="m")
    j.reset(context={"question": "2+2?", "answer": "4"})
    content = j.messages("four")[-1]["content"]
    assert "2+2?" in content and "Reference answer:\n4" in content and "Response:\nfour" in content


def test_describe_judges_for_bundle_manifests():
    from openenv_harness.rubric import McpToolRubric, describe_judges

    tree = WeightedSum(
        {
            "judge": ReferenceJudge(model="m1", temperature=0.2),
            "fmt": RegexMatch(),
            "tool": McpToolRubric(tool="grade"),
        }
    )
    out = describe_judges(tree)
    assert set(out) == {"judge", "tool"}
    assert out["judge"]["model"] == "m1" and out["judge"]["temperature"] == 0.2
    assert (
        out["judge"]["type"] == "openenv_harness.rubrics.judge.ReferenceJudge"
        and "Reference answer" in out["judge"]["prompt_template"]
    )
    assert out["tool"]["tool"] == "grade"
    assert describe_judges(ReferenceJudge()).keys() == {"reference_judge"}

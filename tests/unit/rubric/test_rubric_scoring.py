import asyncio
import json

import pytest
from rubric_helpers import Bad, Const, Length, SlowAsync

from openenv_harness.rubric import RewardResult, RubricError, Sequential, WeightedSum, combine


def _tree():
    return WeightedSum(
        {
            "correct": Sequential({"fmt": Const(value=1.0), "value": Const(value=0.1)}),
            "length": Length(scale=0.013),
            "style": Const(value=0.3),
        },
        weights={"correct": 1.7, "length": 0.3, "style": 0.11},
    )


def test_score_reports_raw_components_weights_and_nested_diagnostics():
    res = _tree().score("abcdefg", None)
    assert res.components == {
        "correct": 0.1,
        "length": 0.013 * 7,
        "style": 0.3,
        "correct.fmt": 1.0,
        "correct.value": 0.1,
    }
    assert res.weights == {"correct": 1.7, "length": 0.3, "style": 0.11}
    assert res.errors == {} and not res.normalized
    meta = res.to_metadata()
    assert set(meta) == {"reward_components", "reward_weights"}


@pytest.mark.parametrize("normalize", [False, True])
def test_reweighting_stored_components_reproduces_reward_exactly(normalize):
    tree = _tree()
    tree.config.normalize = normalize
    weights = {"correct": 0.37, "length": 1.13, "style": 0.0}
    res = tree.score("some answer text", None, weights=weights)
    meta = json.loads(json.dumps(res.to_metadata()))  # as it travels on the wire
    assert (
        combine(meta["reward_components"], meta["reward_weights"], meta.get("reward_normalized", False))
        == res.reward
    )
    assert RewardResult.from_metadata(meta).reward == res.reward
    # offline re-weighting equals what the env would have computed with those weights
    other = {"correct": 2.0, "length": 0.01, "style": 0.7}
    assert (
        RewardResult.from_metadata(meta).reweighted(other)
        == tree.score("some answer text", None, other).reward
    )
    with pytest.raises(ValueError, match="unknown component"):
        res.reweighted({"nope": 1.0})


def test_score_weights_override_and_validation():
    tree = _tree()
    assert tree.score("ab", None, weights={"style": 2.0}).weights == {
        "correct": 1.7,
        "length": 0.3,
        "style": 2.0,
    }
    with pytest.raises(RubricError, match="unknown reward component 'styel'"):
        tree.score("ab", None, weights={"styel": 1.0})
    with pytest.raises(RubricError, match="'style' must be a finite number >= 0"):
        tree.score("ab", None, weights={"style": -0.1})


def test_failing_component_is_an_error_not_a_zero():
    ws = WeightedSum(
        {"ok": Const(value=0.5), "nan": Bad(float("nan")), "boom": Bad(exc=ConnectionError("judge down"))}
    )
    res = ws.score("x", None)
    assert res.reward is None
    assert res.components == {"ok": 0.5}
    assert "returned nan" in res.errors["nan"] and res.errors["boom"] == "ConnectionError: judge down"
    assert res.to_metadata()["reward_errors"] == res.errors
    assert ws.score("x", None, error_reward=-1.0).reward == -1.0
    # failing components with weight 0 do not matter for the reward (still reported)
    res0 = ws.score("x", None, weights={"nan": 0.0, "boom": 0.0})
    assert res0.reward == 0.5 and set(res0.errors) == {"nan", "boom"}


def test_leaf_root_is_one_component_named_after_its_class():
    res = Length(scale=2.0).score("abc", None, weights={"length": 0.5})
    assert res.components == {"length": 6.0} and res.reward == 3.0


def test_empty_and_all_zero_weights():
    assert WeightedSum().score("x", None) == RewardResult(0.0, {}, {}, {}, False)
    res = WeightedSum({"a": Const(value=3.0)}, normalize=True).score("x", None, weights={"a": 0.0})
    assert res.reward == 0.0 and res.components == {"a": 3.0}


def test_async_score_concurrent_and_errors():
    ws = WeightedSum({"slow": SlowAsync(value=0.5, delay=0.01), "bad": Bad(None), "ok": Const(value=1.0)})
    res = ws.score("x", None, weights={"bad": 0.0})
    assert res.reward == 1.5 and "returned None" in res.errors["bad"]
    ares = asyncio.run(ws.ascore("x", None, weights={"bad": 0.0}))
    assert ares == res


def test_skip_zero_weights_does_not_evaluate_switched_off_components():
    judge = Const(value=0.9)
    ws = WeightedSum({"judge": judge, "len": Length(), "bad": Bad(exc=RuntimeError("down"))})
    res = ws.score("abc", None, weights={"judge": 0.0, "bad": 0.0}, skip_zero_weights=True)
    assert judge.calls == 0 and res.components == {"len": 3.0} and res.errors == {} and res.reward == 3.0
    assert res.weights == {"judge": 0.0, "len": 1.0, "bad": 0.0}
    assert combine(res.components, res.weights) == res.reward  # still exactly reproducible
    slow = WeightedSum({"a": SlowAsync(value=0.5, delay=0.0), "b": Const(value=1.0)})
    assert asyncio.run(slow.ascore("x", None, weights={"a": 0.0}, skip_zero_weights=True)).components == {
        "b": 1.0
    }

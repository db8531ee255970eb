import asyncio
import time

import pytest
from rubric_helpers import Const, Length, SlowAsync

from openenv_harness.rubric import Gate, RubricDict, RubricError, RubricList, Sequential, WeightedSum


def test_weighted_sum_weights_default_and_normalize():
    ws = WeightedSum({"a": Const(value=1.0), "b": Const(value=3.0)}, weights={"a": 2.0})
    assert ws.default_weights() == {"a": 2.0, "b": 1.0}
    assert ws("x", None) == 5.0
    norm = WeightedSum({"a": Const(value=1.0), "b": Const(value=3.0)}, weights={"a": 3.0}, normalize=True)
    assert norm("x", None) == (3.0 * 1.0 + 1.0 * 3.0) / 4.0


def test_weighted_sum_rejects_negative_nan_and_unknown_weights():
    with pytest.raises(RubricError, match=r"weights.a: must be a finite number >= 0, got -1"):
        WeightedSum({"a": Const()}, weights={"a": -1.0})
    with pytest.raises(RubricError, match="weights.a"):
        WeightedSum({"a": Const()}, weights={"a": float("nan")})
    with pytest.raises(RubricError, match=r"unknown children \['b'\]"):
        WeightedSum({"a": Const()}, weights={"b": 1.0})


def test_empty_containers_and_zero_weights_score_zero():
    assert WeightedSum()("x", None) == 0.0
    assert WeightedSum(normalize=True)("x", None) == 0.0
    assert Sequential()("x", None) == 0.0
    zero = WeightedSum({"a": Const(value=5.0)}, weights={"a": 0.0})
    assert zero("x", None) == 0.0
    assert WeightedSum({"a": Const(value=5.0)}, weights={"a": 0.0}, normalize=True)("x", None) == 0.0


def test_sequential_fails_fast_and_returns_last_score():
    check_ok, check_bad, scorer = Const(value=1.0), Const(value=0.0), Const(value=0.7)
    seq = Sequential([check_ok, check_bad, scorer], fail_score=-1.0)
    assert seq("x", None) == -1.0
    assert scorer.calls == 0  # not evaluated after the failed check
    assert [n for n, _ in seq.named_rubrics()] == ["0", "1", "2"]
    assert Sequential({"fmt": Const(value=1.0), "value": Const(value=0.7)})("x", None) == 0.7
    assert Sequential([Const(value=0.6), Const(value=0.2)], threshold=0.5)("x", None) == 0.2


def test_gate_threshold():
    assert Gate(Const(value=0.4), threshold=0.5)("x", None) == 0.0
    assert Gate(Const(value=0.5), threshold=0.5)("x", None) == 0.5
    assert Gate(Const(value=0.1), threshold=0.5, fail_score=-0.5)("x", None) == -0.5
    g = Gate(Length())
    assert [n for n, _ in g.named_rubrics()] == ["rubric"]


def test_async_children_run_concurrently():
    ws = WeightedSum({f"j{i}": SlowAsync(value=0.25, delay=0.5) for i in range(4)})
    assert ws.is_async
    t0 = time.perf_counter()
    assert ws("x", None) == 1.0
    assert time.perf_counter() - t0 < 1.5  # 4 x 0.5 s sequentially would be 2.0 s
    assert asyncio.run(ws.acall("x", None)) == 1.0


def test_async_children_inside_sequential_and_gate():
    seq = Sequential([SlowAsync(value=1.0, delay=0.0), Gate(SlowAsync(value=0.3, delay=0.0), threshold=0.2)])
    assert seq.is_async and seq("x", None) == 0.3
    failing = Sequential([SlowAsync(value=0.0, delay=0.0), Const(value=1.0)])
    assert asyncio.run(failing.acall("x", None)) == 0.0


def test_rubric_dict_and_list_hold_but_do_not_score():
    d = RubricDict({"a": Const()})
    d["b"] = Length()
    assert list(d) == ["a", "b"] and len(d) == 2 and "b" in d and isinstance(d["b"], Length)
    del d["a"]
    assert d.keys() == ["b"]
    lst = RubricList([Const(), Length()])
    lst.append(Const(value=2.0))
    assert len(lst) == 3 and lst[2].config.value == 2.0
    assert [n for n, _ in lst.named_rubrics()] == ["0", "1", "2"]
    with pytest.raises(RubricError, match="RubricDict only holds rubrics"):
        d("x", None)
    with pytest.raises(RubricError, match="RubricList only holds rubrics"):
        lst("x", None)
    ws = WeightedSum({"group": Sequential(list(RubricList([Const(value=1.0), Const(value=0.5)])))})
    assert ws("x", None) == 0.5

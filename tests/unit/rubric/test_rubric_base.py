import asyncio
import json

import pytest
from rubric_helpers import Answer, Bad, Const, Length, SlowAsync

from openenv_harness.rubric import Rubric, RubricError, WeightedSum


def test_config_kwargs_are_type_checked_and_coerced():
    assert Length(scale="2.5").config.scale == 2.5  # YAML strings are coerced
    with pytest.raises(RubricError, match="Length: unknown config field"):
        Length(scael=2)
    with pytest.raises(RubricError, match="'scale'"):
        Length(scale="not a number")


def test_children_registered_on_assignment_with_dotted_names():
    class Tree(Rubric):
        def __init__(self):
            super().__init__()
            self.a = Length()
            self.inner = WeightedSum({"x": Const(), "y": Const()})

        def forward(self, action, observation):
            return self.a(action, observation) + self.inner(action, observation)

    t = Tree()
    assert [n for n, _ in t.named_rubrics()] == ["a", "inner", "inner.x", "inner.y"]
    assert t.inner.x.path == "inner.x"
    assert t("abc", None) == 5.0
    t.a = None  # replacing a child with a non-rubric unregisters it
    assert [n for n, _ in t.named_children()] == ["inner"]


def test_child_before_super_init_is_a_clear_error():
    class Broken(Rubric):
        def __init__(self):
            self.child = Const()

    with pytest.raises(RubricError, match="super"):
        Broken()


def test_nan_none_and_strings_are_clear_errors_naming_the_rubric():
    with pytest.raises(RubricError, match=r"rubric Bad returned nan"):
        Bad(float("nan"))("a", None)
    with pytest.raises(RubricError, match="returned None"):
        Bad(None)("a", None)
    with pytest.raises(RubricError, match="returned '1'"):
        Bad("1")("a", None)
    ws = WeightedSum({"ok": Const(), "bad": Bad(float("inf"))})
    with pytest.raises(RubricError, match=r"rubric 'bad' \(Bad\) returned inf"):
        ws("a", None)
    assert Bad(True)("a", None) == 1.0  # bools and ints are fine


def test_async_forward_sync_facade_and_acall():
    r = SlowAsync(value=0.25, delay=0.0)
    assert r.is_async and r("a", None) == 0.25
    assert asyncio.run(r.acall("a", None)) == 0.25


def test_sync_call_of_async_rubric_from_inside_a_running_loop():
    async def main():
        return SlowAsync(value=0.75, delay=0.0)("a", None)  # no deadlock: runs on a worker loop

    assert asyncio.run(main()) == 0.75


def test_reset_hands_context_to_the_whole_tree_read_only():
    ws = WeightedSum({"answer": Answer(), "len": Length()})
    ws.reset(context={"answer": "42"})
    assert ws.answer.context["answer"] == "42"
    assert ws("42", None) == 3.0
    with pytest.raises(TypeError):
        ws.answer.context["answer"] = "x"  # type: ignore[index]
    ws.reset()
    with pytest.raises(KeyError):
        ws.answer("42", None)


def test_state_dict_roundtrip_through_json_and_strictness():
    a = WeightedSum({"x": Length(scale=2.0), "y": Const(value=0.5)}, weights={"x": 0.5})
    b = WeightedSum({"x": Length(), "y": Const()})
    b.load_state_dict(json.loads(json.dumps(a.state_dict())))
    assert b.x.config.scale == 2.0 and b.y.config.value == 0.5 and b.config.weights == {"x": 0.5}
    assert b("ab", None) == a("ab", None)
    with pytest.raises(RubricError, match=r"missing rubrics \['z'\], unexpected rubrics \['y'\]"):
        WeightedSum({"x": Length(), "z": Const()}).load_state_dict(a.state_dict())
    with pytest.raises(RubricError, match="is a .*Const, state is for .*Length"):
        WeightedSum({"x": Const(), "y": Const()}).load_state_dict(a.state_dict())
    bad = a.state_dict()
    bad["x"]["config"]["scale"] = "oops"
    with pytest.raises(RubricError, match="scale"):
        b.load_state_dict(bad)


def test_invalid_child_names_and_clashes():
    with pytest.raises(RubricError, match="invalid child rubric name 'a.b'"):
        WeightedSum({"a.b": Const()})
    with pytest.raises(RubricError, match="clashes"):
        WeightedSum({"forward": Const()})


def test_deepcopy_and_pickle_keep_the_tree_linked():
    import copy
    import pickle

    ws = WeightedSum({"inner": WeightedSum({"x": Length(scale=2.0)}), "y": Const()}, weights={"y": 0.5})
    for clone in (copy.deepcopy(ws), pickle.loads(pickle.dumps(ws))):
        assert clone.inner.x is not ws.inner.x
        assert clone.inner.x.path == "inner.x" and clone.inner.x._parent() is clone.inner
        assert clone.score("abc", None).components == ws.score("abc", None).components

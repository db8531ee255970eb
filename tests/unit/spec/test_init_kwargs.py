"""Constructor arguments checked against an env's declaration (annotated types and Field bounds)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from pydantic import Field

from openenv_harness.spec import InitKwargError, check_init_kwargs, validated_init


class _Toy:
    @validated_init
    def __init__(
        self,
        level: Annotated[int, Field(ge=1, le=3)] = 1,
        mode: Literal["a", "b"] = "a",
        limit: Annotated[float, Field(gt=0)] | None = None,
        names: list[str] | tuple[str, ...] = (),
        anything: Any = None,
    ) -> None:
        self.level = level


class _Child(_Toy):
    """Inherits the declaration (and the check) of its parent's constructor."""


class _Open:
    def __init__(self, level: Annotated[int, Field(ge=1)] = 1, **extra: Any) -> None:
        self.extra = extra


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"level": 4}, r"^level: 4 is not valid \(Input should be less than or equal to 3\)$"),
        ({"level": "x"}, r"^level: 'x' is not valid \(Input should be a valid integer"),
        ({"mode": "c"}, r"^mode: 'c' is not valid \(Input should be 'a' or 'b'\)$"),
        ({"limit": 0}, r"^limit: 0 is not valid \(Input should be greater than 0\)$"),
        ({"names": [1]}, r"^names\.0: 1 is not valid"),  # the union member's tag is not part of the name
        ({"levle": 1}, r"^levle: not an argument \(it takes: level, mode, limit, names, anything\)$"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, Any], message: str) -> None:
    for target in (_Toy, _Child):
        with pytest.raises(InitKwargError, match=message):
            check_init_kwargs(target, kwargs)
    if "levle" not in kwargs:
        with pytest.raises(InitKwargError, match=message):
            _Toy(**kwargs)
        with pytest.raises(ValueError, match=message):  # a ValueError, for callers that expect one
            _Child(**kwargs)


def test_good_arguments_pass_unchanged() -> None:
    check_init_kwargs(_Toy, {"level": 3, "mode": "b", "limit": None, "names": ["x"], "anything": object()})
    assert _Toy(level="2").level == "2"  # checked in lax mode, never converted: the constructor decides
    assert _Toy(2).level == 2  # positional arguments are checked too
    with pytest.raises(InitKwargError, match="^level: "):
        _Toy(9)


def test_open_ended_constructors_and_skipped_names() -> None:
    check_init_kwargs(_Open, {"whatever": 1})
    with pytest.raises(InitKwargError, match="^level: 0 is not valid"):
        check_init_kwargs(_Open, {"level": 0, "whatever": 1})
    check_init_kwargs(_Toy, {"rubric": object()}, skip=frozenset({"rubric"}))

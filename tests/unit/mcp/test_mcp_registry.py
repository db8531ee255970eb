from __future__ import annotations

import pytest

from openenv_harness.mcp import (
    EPISODE_HEADER,
    EpisodeDirectory,
    EpisodeNotFound,
    ReservedToolNameError,
    ToolCallError,
    ToolRegistry,
    check_tool_name,
)
from openenv_harness.spec import RESERVED_TOOL_NAMES


def _noop(target: object) -> str:
    return "ok"


@pytest.mark.parametrize("name", sorted(RESERVED_TOOL_NAMES) + ["Reset", "STEP"])
def test_reserved_names_are_refused(name: str) -> None:
    registry = ToolRegistry()
    with pytest.raises(ReservedToolNameError, match="reserved for orchestrator operations"):
        registry.add(_noop, name=name)
    assert name not in registry


def test_reserved_name_via_decorator_and_function_name() -> None:
    registry = ToolRegistry()
    with pytest.raises(ReservedToolNameError, match="'step'"):

        @registry.tool()
        def step(target: object) -> None:
            return None

    assert len(registry) == 0


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "1abc", "semi;colon"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(ValueError, match="invalid tool name"):
        check_tool_name(name)


def test_duplicate_and_varargs_refused() -> None:
    registry = ToolRegistry()
    registry.add(_noop, name="a")
    with pytest.raises(ValueError, match="already registered"):
        registry.add(_noop, name="a")

    def bad(target: object, *args: int) -> None:
        return None

    with pytest.raises(TypeError, match=r"\*args"):
        registry.add(bad)


def test_call_validates_and_wraps_errors() -> None:
    registry = ToolRegistry()

    @registry.tool(description="Divide a by b.")
    def div(target: dict[str, int], a: float, b: float = 2.0) -> float:
        target["calls"] = target.get("calls", 0) + 1
        return a / b

    state: dict[str, int] = {}
    assert registry.call(state, "div", {"a": 9}) == 4.5
    assert registry.call(state, "div", {"a": "3", "b": 3}) == 1.0  # JSON-ish coercion like MCP does
    assert state["calls"] == 2
    with pytest.raises(ToolCallError, match="argument 'a'"):
        registry.call(state, "div", {"b": 1})
    with pytest.raises(ToolCallError, match="argument 'c'"):
        registry.call(state, "div", {"a": 1, "c": 1})
    with pytest.raises(ToolCallError, match="ZeroDivisionError"):
        registry.call(state, "div", {"a": 1, "b": 0})
    with pytest.raises(ToolCallError, match="unknown tool 'nope'; available tools: div"):
        registry.call(state, "nope", {})
    with pytest.raises(ToolCallError, match="JSON object"):
        registry.call(state, "div", [1, 2])  # type: ignore[arg-type]
    (desc,) = registry.describe()
    assert desc["name"] == "div" and desc["description"] == "Divide a by b."
    assert desc["input_schema"]["required"] == ["a"]
    assert set(desc["input_schema"]["properties"]) == {"a", "b"}


class _Target:
    pass


def test_episode_directory_binds_unique_ids_and_forgets_dead_targets() -> None:
    directory = EpisodeDirectory()
    a, b = _Target(), _Target()
    directory.bind("ep", a)
    directory.bind("ep", a)  # idempotent for the same target
    with pytest.raises(ValueError, match="already in use"):
        directory.bind("ep", b)
    assert directory.resolve({EPISODE_HEADER: "ep"}) is a
    assert directory.resolve({EPISODE_HEADER.lower(): "ep"}) is a
    with pytest.raises(EpisodeNotFound, match=EPISODE_HEADER):
        directory.resolve({})
    with pytest.raises(EpisodeNotFound, match="not live"):
        directory.resolve({EPISODE_HEADER: "other"})
    directory.unbind("ep", b)  # not its owner: no effect
    assert directory.get("ep") is a
    del a
    import gc

    gc.collect()
    assert directory.get("ep") is None  # weakly held: a dropped env leaves the directory
    assert len(directory) == 0

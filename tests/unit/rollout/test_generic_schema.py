"""The generic adapter on pydantic-made schemas: nested models, enums via $ref, constants, MCP tool calls."""

import json
from enum import StrEnum

import pytest
from pydantic import BaseModel, Field

from openenv_harness.rollout import GenericAdapter
from openenv_harness.rollout._jsonschema import coerce, type_of


class Colour(StrEnum):
    red = "red"
    blue = "blue"


class Point(BaseModel):
    x: int
    y: int


class Move(BaseModel):
    colour: Colour
    at: Point
    note: str | None = None


def _adapter(model: type[BaseModel]) -> GenericAdapter:
    return GenericAdapter.from_schema("t", model.model_json_schema())


def test_nested_objects_and_enum_refs_are_coerced():
    ad = _adapter(Move)
    action = ad.to_action('{"colour": "Blue", "at": {"x": "3", "y": 4}}')
    assert action == {"colour": "blue", "at": {"x": 3, "y": 4}}
    Move.model_validate(action)  # what the server would accept
    assert ad.to_action('{"colour": "red", "at": "{\\"x\\": 1, \\"y\\": 2}"}')["at"] == {"x": 1, "y": 2}
    assert "colour (string, one of ['red', 'blue'], required)" in ad.system_prompt
    assert "at (object {x, y}, required)" in ad.system_prompt
    assert "Action JSON schema:" in ad.system_prompt


def test_integer_range_in_prompt_and_number_or_enum_word_fallbacks():
    class Drop(BaseModel):
        column: int = Field(ge=0, le=6, description="Column index")

    ad = _adapter(Drop)
    assert "column (integer, 0..6, required): Column index" in ad.system_prompt
    assert ad.to_action("column 4 looks good") == {"column": 4}

    class Turn(BaseModel):
        direction: Colour

    assert _adapter(Turn).to_action("I pick BLUE.") == {"direction": "blue"}
    with pytest.raises(ValueError):
        _adapter(Turn).to_action("green")


CALL_TOOL = {  # OpenEnv's CallToolAction
    "properties": {
        "metadata": {"type": "object"},
        "type": {"const": "call_tool", "default": "call_tool", "type": "string"},
        "tool_name": {"type": "string", "description": "Name of the tool to call"},
        "arguments": {"type": "object", "additionalProperties": True},
    },
    "required": ["tool_name"],
}


def test_mcp_call_tool_action_and_its_spellings():
    ad = GenericAdapter.from_schema("echo_env", CALL_TOOL)
    assert ad.tool_call == ("tool_name", "arguments") and ad.text_field is None
    want = {"type": "call_tool", "tool_name": "echo_message", "arguments": {"message": "hi"}}
    assert ad.to_action('{"tool_name": "echo_message", "arguments": {"message": "hi"}}') == want
    assert ad.to_action('{"tool": "echo_message", "args": {"message": "hi"}}') == want
    # OpenAI writes arguments as a JSON string
    assert ad.to_action('{"name": "echo_message", "arguments": "{\\"message\\": \\"hi\\"}"}') == want
    assert "calls a tool" in ad.system_prompt and "type (" not in ad.system_prompt
    with pytest.raises(ValueError):
        ad.to_action("just say hi")  # no text field: plain text is not a tool call


def test_scripted_baseline_is_schema_valid():
    class Drop(BaseModel):
        column: int = Field(ge=2, le=6)

    ad = _adapter(Drop)
    assert json.loads(ad.scripted({"board": [0] * 7}, [])) == {"column": 2}
    assert json.loads(ad.scripted({"legal_actions": [5, 6]}, [])) == {"column": 5}
    assert Move.model_validate(ad_move := json.loads(_adapter(Move).scripted({"q": "hello"}, []))) and ad_move


def test_type_of_and_coerce_edge_cases():
    assert type_of({"anyOf": [{"type": "integer"}, {"type": "null"}]}) == "integer"
    assert type_of({"const": 3}) == "integer"
    assert coerce("x", {"type": "integer"}, {}) == "x"  # left for the server to refuse
    assert coerce("TRUE", {"type": "boolean"}, {}) is True


def test_scripted_baseline_plays_a_listed_legal_move():
    class Move(BaseModel):
        move: str

    ad = _adapter(Move)
    assert ad.scripted({"fen": "8/8/8 w", "legal_moves": ["e2e4", "d2d4"]}, []) == "e2e4"
    assert ad.scripted({"fen": "8/8/8 w"}, []) == "8/8/8 w"

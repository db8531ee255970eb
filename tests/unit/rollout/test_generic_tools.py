"""The generic adapter with an MCP env's tools: listed in the prompt, replies become calls of known tools."""

from __future__ import annotations

import json

import pytest
from test_generic_schema import CALL_TOOL

from openenv_harness.rollout import GenericAdapter, ToolSpec
from openenv_harness.rollout._tools import tools_from_listing

TOOLS = tools_from_listing(
    [
        {
            "name": "shout",
            "description": "Repeat the message in capitals.",
            "inputSchema": {
                "type": "object",
                "properties": {"message": {"type": "string"}, "times": {"type": "integer", "default": 1}},
                "required": ["message"],
            },
        },
        {"name": "clock", "description": "", "input_schema": {"type": "object", "properties": {}}},
        {"description": "no name: skipped"},
        "junk",
    ]
)


def _adapter() -> GenericAdapter:
    return GenericAdapter.from_schema("echo_mcp", CALL_TOOL, tools=TOOLS)


def test_listing_and_prompt() -> None:
    assert [t.name for t in TOOLS] == ["shout", "clock"]
    prompt = _adapter().system_prompt
    assert "- shout: Repeat the message in capitals. Arguments: {" in prompt
    assert '"times":{"type":"integer","default":1}' in prompt
    assert "- clock: no description Arguments: {" in prompt
    assert 'e.g. {"tool_name": "shout", "arguments": {"message": "..."}}' in prompt


@pytest.mark.parametrize(
    "reply",
    [
        '{"tool_name": "shout", "arguments": {"message": "hi", "times": 2}}',
        '{"tool": "shout", "args": {"message": "hi", "times": "2"}}',  # coerced to the tool's schema
        '{"name": "shout", "arguments": "{\\"message\\": \\"hi\\", \\"times\\": 2}"}',  # OpenAI's spelling
        '{"tool": "shout", "message": "hi", "times": 2}',  # arguments beside the name
        'Sure:\n```json\n{"tool": "shout", "args": {"message": "hi", "times": 2}}\n```',
    ],
)
def test_replies_become_calls(reply: str) -> None:
    assert _adapter().to_action(reply) == {
        "type": "call_tool",
        "tool_name": "shout",
        "arguments": {"message": "hi", "times": 2},
    }


def test_unknown_tool_is_an_invalid_action_naming_the_tools() -> None:
    with pytest.raises(ValueError, match=r"unknown tool 'whisper': the tools are shout, clock"):
        _adapter().to_action('{"tool": "whisper", "args": {}}')


def test_baseline_calls_the_first_tool_with_valid_arguments() -> None:
    reply = json.loads(_adapter().scripted({"result": "Call the shout tool"}, []))
    assert reply == {"tool_name": "shout", "arguments": {"message": "Call the shout tool"}}


def test_tools_are_listed_only_for_tool_call_actions() -> None:
    asked: list[bool] = []

    def listing() -> list[ToolSpec]:
        asked.append(True)
        return TOOLS

    plain = {"properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    assert GenericAdapter.from_schema("qa", plain, tools=listing).tools == () and not asked
    assert GenericAdapter.from_schema("echo_mcp", CALL_TOOL, tools=listing).tools == tuple(TOOLS) and asked
    bare = GenericAdapter.from_schema("echo_mcp", CALL_TOOL)  # tools unknown: any name goes, as before
    assert bare.to_action('{"tool": "whisper", "args": {}}')["tool_name"] == "whisper"

"""McpToolRubric against a real MCP server on loopback (a stand-in grading service built with our MCP helpers)."""

from __future__ import annotations

import json
import socket

import pytest
from fastapi import FastAPI

from openenv_harness.mcp import ToolRegistry, build_mcp_server, mount_mcp
from openenv_harness.rubric import JudgeError, McpToolRubric, WeightedSum
from openenv_harness.server import serve_in_thread


def _grader() -> FastAPI:
    registry = ToolRegistry()

    @registry.tool(description="Grade a response against a reference; returns JSON with a score in [0, 1].")
    def grade(target: object, response: str, reference: str = "") -> str:
        overlap = len(set(response.split()) & set(reference.split())) / max(1, len(set(reference.split())))
        return json.dumps({"score": overlap, "why": "word overlap"})

    @registry.tool(description="Answers in prose.")
    def chat(target: object, response: str) -> str:
        return "I would say 7 out of 10" if response != "confuse" else "no idea"

    @registry.tool(description="Always fails.")
    def broken(target: object, response: str) -> str:
        raise RuntimeError("grader database is down")

    app = FastAPI()
    mount_mcp(app, build_mcp_server(registry, lambda headers: None, name="grader"))
    return app


@pytest.fixture(scope="module")
def mcp_url():
    with serve_in_thread(_grader()) as base:
        yield f"{base}/mcp"


def test_json_score_with_context_templates(mcp_url: str) -> None:
    r = McpToolRubric(
        url=mcp_url, tool="grade", arguments={"response": "{response}", "reference": "{answer}"}
    )
    r.reset(context={"answer": "the cat sat"})
    assert r("the cat ran", None) == pytest.approx(2 / 3)
    res = WeightedSum({"grade": r}).score({"response": "the cat sat"}, None)
    assert res.components == {"grade": 1.0} and not res.errors


def test_regex_fallback_and_unparsable(mcp_url: str) -> None:
    r = McpToolRubric(
        url=mcp_url, tool="chat", score_field=None, score_pattern=r"(\d+) out of 10", score_max=10.0
    )
    assert r("hello", None) == 0.7
    with pytest.raises(JudgeError, match="unparsable judge answer"):
        r("confuse", None)


def test_tool_error_unreachable_server_and_unknown_tool(mcp_url: str) -> None:
    res = WeightedSum({"g": McpToolRubric(url=mcp_url, tool="broken")}).score("x", None)
    assert res.reward is None and "grader database is down" in res.errors["g"]
    with pytest.raises(JudgeError, match="nope"):
        McpToolRubric(url=mcp_url, tool="nope")("x", None)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    with pytest.raises(JudgeError, match=f"MCP server http://127.0.0.1:{dead}/mcp failed"):
        McpToolRubric(url=f"http://127.0.0.1:{dead}/mcp", timeout_s=2.0)("x", None)

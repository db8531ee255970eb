"""The tools env behind create_app on loopback: the SDK's MCP client on /mcp, the env over WS and HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from envs.tools import ToolsEnvironment
from envs.tools.oracle import inline_sql
from openenv_harness.client import EnvClient
from openenv_harness.mcp import open_mcp_session
from openenv_harness.server import create_app
from tests.unit.mcp.test_mcp_server import _initialize


def _text(result: Any) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


def _is_error(result: Any) -> bool:
    # mcp 2.x names it is_error, 1.x isError.
    return bool(getattr(result, "is_error", None) or getattr(result, "isError", False))


def test_mcp_tools_act_on_the_ws_episode_and_answer_is_scored(serve_app: Callable[[Any], Any]) -> None:
    app = create_app(ToolsEnvironment, max_sessions=8)
    with serve_app(app) as url:
        meta = httpx.get(f"{url}/metadata", timeout=5).json()
        assert meta["tools"] == ["sql", "calculator"]
        with EnvClient(url) as client, EnvClient(url) as other:
            first = client.reset(seed=4, template="revenue_by_category")
            other_first = other.reset(seed=5, template="units_of_product")
            episode_id = first.metadata["episode_id"]
            task = first.metadata["task"]

            async def use_tools() -> tuple[str, str]:
                async with open_mcp_session(f"{url}/mcp", episode_id=episode_id) as mcp:
                    listed = [t.name for t in (await mcp.list_tools()).tools]
                    assert listed == ["sql", "calculator"]
                    assert not {"reset", "step", "state", "close"} & set(listed)
                    query = inline_sql(task["template"], task["params"])
                    res = await mcp.call_tool("sql", {"query": query})
                    assert not _is_error(res), _text(res)
                    value = json.loads(_text(res))["rows"][0][0]
                    bad = await mcp.call_tool("sql", {"query": "DELETE FROM orders"})
                    assert _is_error(bad) and "read-only" in _text(bad)
                    calc = await mcp.call_tool("calculator", {"expression": "1/0"})
                    assert _is_error(calc) and "division by zero" in _text(calc)
                    missing = await mcp.call_tool("sql", {})
                    assert _is_error(missing) and "query" in _text(missing)
                    return str(value), query

            answer, query = asyncio.run(asyncio.wait_for(use_tools(), 30))
            state = client.state()
            # The call with a missing argument was refused by schema validation before reaching the env.
            assert state.model_dump()["mcp_tool_calls"] == 3
            assert other.state().model_dump()["tool_calls"] == 0  # the other episode was untouched

            obs = client.step({"answer": answer})
            assert obs.done and obs.reward == 1.0
            assert obs.metadata["reward_components"] == {"correct": 1.0}

            async def after_done() -> str:
                async with open_mcp_session(f"{url}/mcp", episode_id=episode_id) as mcp:
                    return _text(await mcp.call_tool("sql", {"query": query}))

            # The finished episode's id is no longer live: tools refuse with a clear message.
            assert "not live" in asyncio.run(asyncio.wait_for(after_done(), 30))
            assert other_first.metadata["episode_id"] != episode_id


def test_mcp_with_http_session_header(serve_app: Callable[[Any], Any]) -> None:
    app = create_app(ToolsEnvironment, max_sessions=4)
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        r = http.post("/reset", json={"seed": 1})
        r.raise_for_status()
        session_id = r.json()["session_id"] if "session_id" in r.json() else r.headers["x-session-id"]

        async def use() -> tuple[str, str]:
            async with open_mcp_session(f"{url}/mcp", headers={"X-Session-Id": session_id}) as mcp:
                ok = _text(await mcp.call_tool("calculator", {"expression": "6 * 7"}))
            async with open_mcp_session(f"{url}/mcp", headers={"X-Session-Id": "nope"}) as mcp:
                bad = _text(await mcp.call_tool("calculator", {"expression": "1"}))
            return ok, bad

        ok, bad = asyncio.run(asyncio.wait_for(use(), 30))
        assert ok == "42" and "not live" in bad
        state = http.get("/state", headers={"X-Session-Id": session_id}).json()
        assert state["mcp_tool_calls"] == 1


def _initialize_status(url: str, host: str) -> int:
    return _initialize(url, host=host).status_code


def test_host_header_policy_from_environment_variable(
    serve_app: Callable[[Any], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Default: any Host works (Docker port publishing, proxies).
    with serve_app(create_app(ToolsEnvironment)) as url:
        assert _initialize_status(url, "env-7.cluster.local:8000") == 200
    monkeypatch.setenv("OPENENV_MCP_ALLOWED_HOSTS", "127.0.0.1:*,localhost:*")
    with serve_app(create_app(ToolsEnvironment)) as url:
        assert _initialize_status(url, "env-7.cluster.local:8000") == 421
        assert _initialize_status(url, url.removeprefix("http://")) == 200

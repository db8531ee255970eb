"""The support env's tools over /mcp (the framework's serve_env_tools), the conversation over WS."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from envs.support import SupportEnvironment
from envs.support.oracle import hidden
from openenv_harness.client import EnvClient
from openenv_harness.mcp import open_mcp_session
from openenv_harness.server import create_app


def _text(result: Any) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


def _is_error(result: Any) -> bool:
    return bool(getattr(result, "is_error", None) or getattr(result, "isError", False))


def test_tools_over_mcp_change_the_ws_episode_database(serve_app: Callable[[Any], Any]) -> None:
    seed = next(s for s in range(100) if hidden(s)["goal"]["kind"] == "cancel")
    goal = hidden(seed)["goal"]
    with serve_app(create_app(SupportEnvironment, max_sessions=4)) as url, EnvClient(url) as client:
        assert httpx.get(f"{url}/metadata", timeout=5).json()["tools"][0] == "find_customer"
        obs = client.reset(seed=seed)
        episode_id = obs.metadata["episode_id"]

        async def agent_tools() -> str:
            async with open_mcp_session(f"{url}/mcp", episode_id=episode_id) as mcp:
                names = [t.name for t in (await mcp.list_tools()).tools]
                assert "cancel_order" in names and "reset" not in names
                early = await mcp.call_tool("cancel_order", {"order_id": goal["order_id"]})
                assert _is_error(early) and "identify the customer" in _text(early)
                found = await mcp.call_tool("find_customer", {"email": goal["email"]})
                assert json.loads(_text(found))["customer_id"] == goal["customer_id"]
                done = await mcp.call_tool("cancel_order", {"order_id": goal["order_id"]})
                return str(json.loads(_text(done))["refund"])

        refund = asyncio.run(asyncio.wait_for(agent_tools(), 30))
        assert refund == goal["must_say"]
        assert client.state().model_dump()["mcp_tool_calls"] == 3
        obs = client.step({"message": f"Your order is cancelled, refund {refund}."})
        assert obs.done and obs.reward == pytest.approx(1.25)

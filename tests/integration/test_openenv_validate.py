"""OpenEnv's own validator and MCP client (the ``openenv`` PyPI package) against our servers.

``openenv validate --url`` checks ``/health``, ``/metadata``, ``/schema``, the ``/reset``/``/step``/``/state``
routes in ``openapi.json`` and that ``POST /mcp`` answers JSON-RPC; every shipped env must pass. Its
``MCPToolClient`` (plain JSON-RPC over ``POST /mcp``) must list and call the tools of ``env=tools``.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest

from openenv_harness.server import create_app, serve_in_thread

validation = pytest.importorskip("openenv.cli._validation", reason="the openenv test dependency is missing")

SHIPPED = ["echo", "arith", "coding", "tools", "wordle", "support"]
ENV_KWARGS = {"coding": {"sandbox": "none"}}


@pytest.mark.parametrize("env_id", SHIPPED)
def test_openenv_validate_passes(env_id: str) -> None:
    with serve_in_thread(create_app(env_id, env_kwargs=ENV_KWARGS.get(env_id, {}))) as url:
        report = validation.validate_running_environment(url)
        failed = [c for c in report["criteria"] if not c.get("passed")]
        assert report["passed"], failed
        body = httpx.post(f"{url}/mcp", json={"jsonrpc": "2.0", "id": 7, "method": "tools/list"}).json()
        assert body["id"] == 7
        if env_id in ("tools", "support"):  # envs with agent tools list them
            assert body["result"]["tools"]
        else:  # no tools: a clear JSON-RPC error, status 200
            assert body["error"]["code"] == -32601 and "no agent tools" in body["error"]["message"]


def test_openenv_validate_cli_on_one_env() -> None:
    """The command line itself (what a user runs), once."""
    with serve_in_thread(create_app("echo")) as url:
        proc = subprocess.run(
            [sys.executable, "-m", "openenv.cli", "validate", "--url", url],
            capture_output=True,
            text=True,
            timeout=120,
        )
    if "No module named openenv.cli.__main__" in proc.stderr:
        pytest.skip("openenv.cli is not runnable with -m here")
    assert "Verdict: PASS" in proc.stdout, proc.stdout + proc.stderr


def test_openenv_mcp_tool_client_lists_and_calls_our_tools() -> None:
    from openenv.core.mcp_client import MCPToolClient

    async def go(url: str) -> None:
        async with MCPToolClient(base_url=url, mode="production") as env:
            tools = {t.name: t for t in await env.list_tools()}
            assert set(tools) == {"sql", "calculator"}
            assert tools["calculator"].input_schema["required"] == ["expression"]
            assert await env.call_tool("calculator", expression="6 * 7") == 42
            rows = await env.call_tool("sql", query="SELECT 1 AS one")
            assert rows["rows"] == [[1]]
            with pytest.raises(RuntimeError, match="calculator failed"):
                await env.call_tool("calculator", expression="import os")

    with serve_in_thread(create_app("tools")) as url:
        asyncio.run(go(url))


def test_sdk_clients_still_reach_the_sdk_endpoint() -> None:
    """A request that accepts an event stream (what MCP SDK clients send) still goes to the SDK."""
    with serve_in_thread(create_app("tools")) as url:
        resp = httpx.post(
            f"{url}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"accept": "application/json, text/event-stream"},
        )
        assert resp.status_code != 200 or "no agent tools" not in resp.text
        assert "openenv/session/create" not in resp.text  # not our plain handler's reply

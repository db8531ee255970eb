"""The MCP surface over a real uvicorn server on loopback, driven by the SDK's own client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from openenv_harness.mcp import (
    EPISODE_HEADER,
    EpisodeDirectory,
    ReservedToolNameError,
    ToolRegistry,
    build_mcp_server,
    check_server_tools,
    mount_mcp,
    open_mcp_session,
)


class Counter:
    def __init__(self) -> None:
        self.value = 0


def _registry() -> ToolRegistry:
    registry = ToolRegistry()

    @registry.tool(description="Add n to this episode's counter and return the new value.")
    def bump(target: Counter, n: int = 1) -> int:
        target.value += n
        return target.value

    @registry.tool(description="Always fails.")
    def explode(target: Counter) -> None:
        raise RuntimeError("the flux capacitor is empty")

    return registry


def _app(directory: EpisodeDirectory, **mount_kwargs: Any) -> FastAPI:
    app = FastAPI()
    server = build_mcp_server(_registry(), directory.resolve, name="test")
    mount_mcp(app, server, **mount_kwargs)
    return app


def _text(result: Any) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


def _is_error(result: Any) -> bool:
    # mcp 2.x names it is_error, 1.x isError.
    return bool(getattr(result, "is_error", None) or getattr(result, "isError", False))


def _input_schema(tool: Any) -> dict[str, Any]:
    return getattr(tool, "input_schema", None) or tool.inputSchema  # type: ignore[no-any-return]


def test_tools_list_call_and_per_episode_state(serve_app: Callable[[Any], Any]) -> None:
    directory = EpisodeDirectory()
    a, b = Counter(), Counter()
    directory.bind("ep-a", a)
    directory.bind("ep-b", b)

    async def main(url: str) -> None:
        async with open_mcp_session(f"{url}/mcp", episode_id="ep-a") as sa:
            tools = await sa.list_tools()
            assert [t.name for t in tools.tools] == ["bump", "explode"]
            schema = _input_schema(tools.tools[0])
            assert schema["properties"]["n"]["type"] == "integer" and "ctx" not in schema["properties"]
            r = await sa.call_tool("bump", {"n": 5})
            assert not _is_error(r) and _text(r) == "5"
            async with open_mcp_session(f"{url}/mcp", episode_id="ep-b") as sb:
                r = await sb.call_tool("bump", {})
                assert _text(r) == "1"
            r = await sa.call_tool("bump", {"n": 1})
            assert _text(r) == "6"
            # A plain exception inside a tool reaches the client as a tool error with its message.
            r = await sa.call_tool("explode", {})
            assert _is_error(r) and "the flux capacitor is empty" in _text(r) and "RuntimeError" in _text(r)
        async with open_mcp_session(f"{url}/mcp") as anon:
            r = await anon.call_tool("bump", {})
            assert _is_error(r) and EPISODE_HEADER in _text(r)
        async with open_mcp_session(f"{url}/mcp", episode_id="gone") as gone:
            r = await gone.call_tool("bump", {})
            assert _is_error(r) and "not live" in _text(r)

    with serve_app(_app(directory)) as url:
        asyncio.run(asyncio.wait_for(main(url), 30))
    assert (a.value, b.value) == (6, 1)


def _initialize(url: str, host: str | None = None) -> httpx.Response:
    headers: Mapping[str, str] = {"accept": "application/json, text/event-stream"}
    if host is not None:
        headers = {**headers, "host": host}
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "0"},
        },
    }
    return httpx.post(f"{url}/mcp", json=body, headers=headers, timeout=10)


def test_served_at_exactly_mcp_and_foreign_host_accepted_by_default(serve_app: Callable[[Any], Any]) -> None:
    with serve_app(_app(EpisodeDirectory())) as url:
        # A Host header as seen behind Docker port publishing or a proxy.
        r = _initialize(url, host="envs.internal:31337")
        assert r.status_code == 200, r.text
        assert r.headers.get("mcp-session-id")
        assert httpx.get(f"{url}/mcp/mcp", timeout=5).status_code == 404


def test_allowed_hosts_turns_dns_rebinding_protection_on(serve_app: Callable[[Any], Any]) -> None:
    app = _app(EpisodeDirectory(), allowed_hosts=["127.0.0.1:*"], allowed_origins=["http://127.0.0.1:*"])
    with serve_app(app) as url:
        assert _initialize(url, host="evil.example:80").status_code == 421
        assert _initialize(url).status_code == 200


def test_hand_built_server_with_reserved_tool_is_refused_at_startup() -> None:
    from openenv_harness.mcp._compat import MCPServer

    server = MCPServer(name="bad")

    @server.tool()
    def reset() -> str:
        return "agents must not reset"

    with pytest.raises(ReservedToolNameError, match="reset"):
        asyncio.run(check_server_tools(server))

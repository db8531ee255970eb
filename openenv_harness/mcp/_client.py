"""A thin async helper around the official MCP client for talking to an env server's ``/mcp``.

It only papers over the SDK's 1.x/2.x differences (``httpx`` vs ``httpx2``, the transport's yield shape) and
adds the episode header; the session returned is the SDK's own ``ClientSession``.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from ._compat import MCP_MAJOR
from ._directory import EPISODE_HEADER


@asynccontextmanager
async def open_mcp_session(
    url: str,
    *,
    episode_id: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 30.0,
) -> AsyncIterator[Any]:
    """Open and initialize an MCP client session over streamable HTTP.

    Args:
        url: The endpoint, e.g. ``http://127.0.0.1:8000/mcp``.
        episode_id: Sent as the ``X-OpenEnv-Episode-Id`` header on every request (selects the episode).
        headers: Extra headers.
        timeout_s: HTTP timeout for each request.

    Yields:
        An initialized ``mcp.ClientSession`` (``list_tools()``, ``call_tool(name, args)``).
    """
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    # 2.x speaks through the separate ``httpx2`` distribution, 1.x through ``httpx``.
    http_lib: Any = importlib.import_module("httpx2" if MCP_MAJOR >= 2 else "httpx")

    all_headers = dict(headers or {})
    if episode_id is not None:
        all_headers[EPISODE_HEADER] = episode_id
    async with (
        http_lib.AsyncClient(headers=all_headers, timeout=timeout_s) as http,
        streamable_http_client(url, http_client=http) as streams,
        ClientSession(streams[0], streams[1]) as session,
    ):
        await session.initialize()
        yield session

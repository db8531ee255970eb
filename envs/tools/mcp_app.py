"""Mount the tools env's MCP server on an env server app (imports the ``mcp`` SDK, so loaded lazily).

Host-header checking (the SDK's DNS-rebinding protection) is off by default so the endpoint works behind
Docker port publishing and proxies; set ``OPENENV_MCP_ALLOWED_HOSTS`` (comma-separated ``host:port`` patterns,
e.g. ``127.0.0.1:*,localhost:*``) to turn it on for exactly those hosts.
"""

from __future__ import annotations

import os
from functools import partial
from typing import TYPE_CHECKING, Any

from openenv_harness.mcp import build_mcp_server, mcp_lifespan, mount_mcp

if TYPE_CHECKING:
    from .environment import ToolsEnvironment

ALLOWED_HOSTS_ENV = "OPENENV_MCP_ALLOWED_HOSTS"


def mount_tools(env_cls: type[ToolsEnvironment], app: Any, sessions: Any) -> Any:
    """Build the MCP server for :data:`TOOLS` and serve it at ``/mcp`` of ``app``; returns the server."""
    from .environment import TOOLS, resolve_episode

    def call(env: ToolsEnvironment, name: str, args: dict[str, Any]) -> Any:
        return env.call_tool(name, args, via_mcp=True)

    server = build_mcp_server(
        TOOLS,
        partial(resolve_episode, env_cls, sessions),
        name="openenv-tools",
        instructions="Tools for one episode of the 'tools' environment. Send the header "
        "X-OpenEnv-Episode-Id with the episode id from reset on every request.",
        call=call,
    )
    raw = os.environ.get(ALLOWED_HOSTS_ENV, "").strip()
    hosts = [h.strip() for h in raw.split(",") if h.strip()] or None
    origins = [f"http://{h}" for h in hosts] if hosts else None
    # create_app exposes its lifespan hooks; a plain app gets its lifespan wrapped instead.
    hooks = getattr(getattr(app, "state", None), "lifespan_hooks", None)
    mount_mcp(
        app, server, path="/mcp", allowed_hosts=hosts, allowed_origins=origins, wrap_lifespan=hooks is None
    )
    if hooks is not None:
        hooks.append(mcp_lifespan(server))
    return server

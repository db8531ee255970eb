"""The few names we need from the official ``mcp`` SDK, across its 1.x and 2.x lines.

2.x renamed ``FastMCP`` (``mcp.server.fastmcp``) to ``MCPServer`` (``mcp.server.mcpserver``) and moved its
HTTP client to ``httpx2``; the tool decorator, ``Context``, ``ToolError`` and the streamable-HTTP session
manager kept their shape. Importing this module requires the ``mcp`` extra.
"""

from __future__ import annotations

from typing import Any

try:  # mcp >= 2
    from mcp.server.mcpserver import Context, MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    MCP_MAJOR = 2
except ImportError:  # mcp 1.x
    try:
        from mcp.server.fastmcp import Context  # type: ignore[no-redef]
        from mcp.server.fastmcp import FastMCP as MCPServer  # type: ignore[no-redef]
        from mcp.server.fastmcp.exceptions import ToolError  # type: ignore[no-redef]
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "openenv_harness.mcp needs the official MCP SDK: pip install 'openenv-harness[mcp]'"
        ) from exc
    MCP_MAJOR = 1

from mcp.server.transport_security import TransportSecuritySettings


def streamable_http_app(server: Any, path: str, security: TransportSecuritySettings) -> Any:
    """Build the SDK's streamable-HTTP Starlette app serving ``server`` at ``path``."""
    if MCP_MAJOR >= 2:
        return server.streamable_http_app(streamable_http_path=path, transport_security=security)
    # 1.x reads these from its settings object instead of arguments.
    server.settings.streamable_http_path = path
    server.settings.transport_security = security
    return server.streamable_http_app()


__all__ = [
    "MCP_MAJOR",
    "Context",
    "MCPServer",
    "ToolError",
    "TransportSecuritySettings",
    "streamable_http_app",
]

"""Framework-level MCP tool surface: a tool registry that refuses reserved names, and ``/mcp`` mounting.

The registry and episode directory need nothing beyond pydantic; the server/client helpers import the
official ``mcp`` SDK lazily (``pip install 'openenv-harness[mcp]'``).
"""

from typing import TYPE_CHECKING, Any

from ._directory import EPISODE_HEADER, EpisodeDirectory, EpisodeNotFound
from ._mixin import MCPToolsMixin
from ._registry import ReservedToolNameError, ToolCallError, ToolRegistry, ToolSpec, check_tool_name

if TYPE_CHECKING:
    from ._client import open_mcp_session
    from ._env_tools import resolve_session_env, serve_env_tools
    from ._server import build_mcp_server, check_server_tools, mcp_lifespan, mount_mcp

_LAZY = {
    "open_mcp_session": "._client",
    "build_mcp_server": "._server",
    "check_server_tools": "._server",
    "mcp_lifespan": "._server",
    "mount_mcp": "._server",
    "resolve_session_env": "._env_tools",
    "serve_env_tools": "._env_tools",
}


def __getattr__(name: str) -> Any:
    # The SDK is an optional extra and slow to import: load it only when a server/client helper is used.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EPISODE_HEADER",
    "EpisodeDirectory",
    "EpisodeNotFound",
    "MCPToolsMixin",
    "ReservedToolNameError",
    "ToolCallError",
    "ToolRegistry",
    "ToolSpec",
    "build_mcp_server",
    "check_server_tools",
    "check_tool_name",
    "mcp_lifespan",
    "mount_mcp",
    "open_mcp_session",
    "resolve_session_env",
    "serve_env_tools",
]

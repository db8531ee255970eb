"""A mixin for environments whose agent-facing tools are also served on ``/mcp``.

Usage::

    class MyEnv(MCPToolsMixin, Environment[MyAction, MyObservation]):
        tool_registry = TOOLS                  # a ToolRegistry
        episodes = EpisodeDirectory()          # bind(episode_id, self) at reset, unbind at the end
        mcp_name = "openenv-myenv"

        def call_tool(self, name, args, via_mcp=True): ...   # locking, episode checks, budgets

``create_app`` then serves the tools on ``/mcp`` (through the ``setup_app`` hook) and ``/metadata`` lists them.
Importing this module does not import the ``mcp`` SDK; serving does.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ._directory import EPISODE_HEADER, EpisodeDirectory
from ._registry import ToolRegistry


class MCPToolsMixin:
    """Adds ``setup_app`` (serve ``tool_registry`` on ``/mcp``) and tool names in ``metadata()``."""

    tool_registry: ClassVar[ToolRegistry]
    episodes: ClassVar[EpisodeDirectory]
    mcp_name: ClassVar[str] = "openenv-tools"

    def call_tool(self, name: str, args: dict[str, Any], via_mcp: bool = True) -> Any:
        """Run one tool on this episode (override; shared by MCP and step-based calls)."""
        raise NotImplementedError(f"{type(self).__name__} must implement call_tool(name, args, via_mcp)")

    @classmethod
    def metadata(cls) -> Any:
        """The environment's metadata with its tool names and how to reach them."""
        meta = super().metadata()  # type: ignore[misc]
        meta.tools = cls.tool_registry.names()
        meta.extra = {**meta.extra, "mcp_path": "/mcp", "episode_header": EPISODE_HEADER}
        return meta

    @classmethod
    def setup_app(cls, app: Any, sessions: Any) -> None:
        """Serve the tools on ``/mcp`` of the env server (called by ``create_app``)."""
        from ._env_tools import serve_env_tools

        serve_env_tools(
            app,
            sessions,
            registry=cls.tool_registry,
            directory=cls.episodes,
            call=lambda env, name, args: env.call_tool(name, args, via_mcp=True),
            name=cls.mcp_name,
        )

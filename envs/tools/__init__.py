"""Tools env: SQL + calculator tools served over MCP; reward from the submitted answer."""

from .environment import TOOLS, ToolsAction, ToolsConfig, ToolsEnvironment, ToolsObservation, ToolsState

__all__ = ["TOOLS", "ToolsAction", "ToolsConfig", "ToolsEnvironment", "ToolsObservation", "ToolsState"]

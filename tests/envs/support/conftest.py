# One loopback-server fixture for every test that drives a real uvicorn server (defined with the MCP tests).
from tests.unit.mcp.conftest import serve_app

__all__ = ["serve_app"]

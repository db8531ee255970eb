"""An MCP-only OpenEnv env in the style of OpenEnv's ``echo_env``: every action is a tool call.

Its action is OpenEnv's ``CallToolAction`` (``type: "call_tool"``, ``tool_name``, ``arguments``), so its
``/schema`` names no tool: a client learns them from ``POST /mcp`` ``tools/list``. The seed picks a word; the
episode is one call, rewarded 1.0 when it is ``shout`` with that word (0.5 for ``echo`` with it, 0 otherwise).
Served with OpenEnv's default session cap (one session).
"""

from __future__ import annotations

import random
from typing import Any
from uuid import uuid4

from fastmcp import FastMCP
from openenv.core.env_server import (
    CallToolAction,
    CallToolObservation,
    MCPEnvironment,
    Observation,
    State,
    create_app,
)

WORDS = ("amber", "birch", "cedar", "delta", "ember", "fjord")


def _tools() -> FastMCP:
    mcp = FastMCP("echo_mcp")

    @mcp.tool
    def echo(message: str) -> str:
        """Repeat the message back unchanged."""
        return message

    @mcp.tool
    def shout(message: str, times: int = 1) -> str:
        """Repeat the message in capitals, `times` times."""
        return " ".join([message.upper()] * times)

    return mcp


class EchoMCPEnvironment(MCPEnvironment):
    """Call a tool with the seeded word (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(_tools())
        self._state = State(episode_id=str(uuid4()), step_count=0)
        self._word = ""

    def reset(self, seed: int | None = None, episode_id: str | None = None, **kwargs: Any) -> Observation:
        self._word = random.Random(seed).choice(WORDS)
        self._state = State(episode_id=episode_id or str(uuid4()), step_count=0)
        task = f"Call the shout tool with the word {self._word}."
        return CallToolObservation(tool_name="", result=task, done=False, reward=0.0)

    def step(self, action: Any, timeout_s: float | None = None, **kwargs: Any) -> Observation:  # type: ignore[override]
        obs = super().step(action, timeout_s=timeout_s, **kwargs)
        return self._scored(action, obs)

    async def step_async(self, action: Any, timeout_s: float | None = None, **kwargs: Any) -> Observation:  # type: ignore[override]
        obs = await super().step_async(action, timeout_s=timeout_s, **kwargs)
        return self._scored(action, obs)

    def _scored(self, action: Any, obs: Observation) -> Observation:
        if isinstance(action, CallToolAction):
            self._state.step_count += 1
            said = action.arguments.get("message")
            points = {"shout": 1.0, "echo": 0.5}.get(action.tool_name, 0.0) if said == self._word else 0.0
            obs.reward, obs.done = points, True
        return obs

    def _step_impl(self, action: Any, timeout_s: float | None = None, **kwargs: Any) -> Observation:
        raise ValueError(f"echo_mcp takes tool calls only, got {type(action).__name__}")

    @property
    def state(self) -> State:
        return self._state


app = create_app(EchoMCPEnvironment, CallToolAction, CallToolObservation, env_name="echo_mcp")

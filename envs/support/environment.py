"""Support: a Tau-style two-agent environment — a simulated customer with a goal talks to the agent.

The environment holds the shop's database (customers, orders). The agent either talks to the customer,
``{"message": "..."}``, or calls a tool on the database, ``{"tool": "cancel_order", "args": {"order_id": ...}}``
(tools: find_customer, list_orders, get_order, cancel_order, update_address, request_return; policy rules
such as "identify the customer first" and "cancel only while processing" are enforced by the tools). The user
is scripted by default (deterministic given the seed) or an LLM over an OpenAI-compatible endpoint. The episode
ends when the user ends the conversation or after ``max_steps`` steps; the reward compares the final database
with the goal's expected database, plus a communication component (see ``rubric.py``).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import threading
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

from pydantic import Field, model_validator

from openenv_harness.mcp import EpisodeDirectory, MCPToolsMixin, ToolCallError
from openenv_harness.rubric import trajectory_credits
from openenv_harness.spec import Action, EnvError, Environment, ErrorCode, Observation, State, validated_init

from .data import POLICY, TOOLS, Goal, SupportDesk, build
from .rubric import build_rubric
from .users import LLMUser, ScriptedUser, UserArg, UserSimConfig, make_user


class SupportAction(Action):
    """Either a message to the customer or a tool call (exactly one of ``message`` and ``tool``)."""

    message: str | None = Field(default=None, max_length=4000)
    tool: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_kind(self) -> SupportAction:
        if (self.message is None) == (self.tool is None):
            raise ValueError('send exactly one of {"message": text} or {"tool": name, "args": {...}}')
        return self


class SupportObservation(Observation):
    """What the agent sees.

    Attributes:
        user_message: The customer's latest message (after reset and after each message of the agent).
        tool_result: JSON text of a tool call's result.
        tool_error: Why a tool call failed (policy violations included).
        policy: The support policy (after reset).
        tools: Name, description and input schema of each tool (after reset).
    """

    user_message: str = ""
    tool_result: str | None = None
    tool_error: str | None = None
    policy: str = ""
    tools: list[dict[str, Any]] = Field(default_factory=list)


class SupportState(State):
    """Episode state: seed, user kind, counts (no goal, no expected database)."""

    seed: int | None = None
    user: str = "scripted"
    messages: int = 0
    tool_calls: int = 0
    mcp_tool_calls: int = 0
    done: bool = True


@dataclass
class SupportConfig:
    """Reward config: component weights and the discount of the per-step credit."""

    schema_version: str = "1"
    weights: dict[str, float] = field(default_factory=lambda: {"db_match": 1.0, "communication": 0.25})
    gamma: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.gamma) and 0.0 <= self.gamma <= 1.0):
            raise ValueError(f"gamma: must be in [0, 1], got {self.gamma}")


class SupportEnvironment(MCPToolsMixin, Environment[SupportAction, SupportObservation]):
    """Customer support with a simulated user and a database changed through tools.

    Args:
        max_steps: Steps (messages and tool calls) before the episode ends.
        user: The simulated user's config (:class:`UserSimConfig` or a dict of its fields).
    """

    name = "support"
    description = "Tau-style customer support: a simulated user with a goal, a database changed via tools."
    version = "0.2.0"
    action_type = SupportAction
    observation_type = SupportObservation
    state_type = SupportState
    config_type = SupportConfig

    tool_registry = TOOLS
    mcp_name = "openenv-support"
    episodes: ClassVar[EpisodeDirectory] = EpisodeDirectory()
    """Live episodes of this process, for MCP requests carrying ``X-OpenEnv-Episode-Id``."""

    @validated_init
    def __init__(self, max_steps: Annotated[int, Field(ge=1)] = 20, user: UserArg = None) -> None:
        super().__init__()
        self.max_steps = max_steps
        self.user_config = user if isinstance(user, UserSimConfig) else UserSimConfig(**(user or {}))
        if self.user_config.kind == "llm":
            # Whether a seed fixes the episode depends on the endpoint honouring the sampling seed.
            self.supports_seed = self.user_config.temperature == 0.0  # type: ignore[misc]
        self.rubric = build_rubric()
        self._desk: SupportDesk | None = None
        self._goal: Goal | None = None
        self._expected: dict[str, Any] = {}
        self._user: ScriptedUser | LLMUser | None = None
        self._state = SupportState()
        self._lock = (
            threading.RLock()
        )  # step (server thread) and MCP tool calls (worker threads) share the db

    def reset(
        self, seed: int | None = None, episode_id: str | None = None, **task: Any
    ) -> SupportObservation:
        """Build the database and goal from the seed; the user opens the conversation."""
        if task:
            raise EnvError(ErrorCode.VALIDATION_ERROR, f"support takes no task arguments, got {sorted(task)}")
        new_id = episode_id or uuid.uuid4().hex
        with self._lock:
            self.episodes.unbind(self._state.episode_id, self)
            try:
                self.episodes.bind(new_id, self)
            except ValueError as exc:
                raise EnvError(ErrorCode.VALIDATION_ERROR, str(exc)) from None
        db, goal, expected = build(seed)
        self._desk, self._goal, self._expected = SupportDesk(db), goal, expected
        self.rubric = build_rubric(self.reward_config.gamma)
        self.rubric.reset(
            context={"expected_db": expected, "must_say": goal.must_say, "current_db": self._current_db}
        )
        self._user = make_user(goal, self.user_config, seed)
        self._state = SupportState(episode_id=new_id, seed=seed, user=self.user_config.kind, done=False)
        opening = self._user.opening()
        return SupportObservation(
            user_message=opening, policy=POLICY, tools=TOOLS.describe(), metadata=self._meta()
        )

    def step(self, action: SupportAction, timeout_s: float | None = None) -> SupportObservation:
        """Send a message to the user or call a tool; the rubric scores the episode when it ends."""
        with self._lock:
            return self._step(action)

    def _step(self, action: SupportAction) -> SupportObservation:
        if self._state.done or self._desk is None or self._user is None:
            raise EnvError(ErrorCode.EPISODE_DONE, "the episode is over; reset to start a new one")
        self._state.step_count += 1
        obs = SupportObservation()
        user_done = False
        if action.message is not None:
            self._state.messages += 1
            obs.user_message, user_done = self._user.reply(action.message, self._desk.db)
        else:
            assert action.tool is not None
            try:
                obs.tool_result = json.dumps(self.call_tool(action.tool, action.args, via_mcp=False))
            except ToolCallError as exc:
                obs.tool_error = str(exc)
        obs.done = user_done or self._state.step_count >= self.max_steps
        self._state.done = obs.done
        result = self.rubric.score(action, obs, weights=dict(self.reward_config.weights))
        obs.reward = result.reward
        obs.metadata = {**self._meta(), **result.to_metadata()}
        if obs.done:
            self.episodes.unbind(self._state.episode_id, self)
            obs.metadata["user_ended"] = user_done
            obs.metadata["step_credits"] = trajectory_credits(self.rubric, result.weights)
        return obs

    def call_tool(self, name: str, args: dict[str, Any], via_mcp: bool = True) -> Any:
        """Run one tool on this episode's database (shared by step-based calls and ``/mcp``).

        Raises:
            ToolCallError: if the episode is over or the tool failed (policy violations included).
        """
        with self._lock:
            if self._state.done or self._desk is None:
                raise ToolCallError("the episode is over: tools are no longer available")
            self._state.tool_calls += 1
            if via_mcp:
                self._state.mcp_tool_calls += 1
            return TOOLS.call(self._desk, name, args)

    def close(self) -> None:
        """Leave the episode directory."""
        self.episodes.unbind(self._state.episode_id, self)

    @property
    def state(self) -> SupportState:
        """Episode state."""
        return self._state

    def ground_truth(self) -> dict[str, Any]:
        """The goal and expected database (server-side only)."""
        return {"goal": dataclasses.asdict(self._goal) if self._goal else None, "expected_db": self._expected}

    def _current_db(self) -> dict[str, Any]:
        return copy.deepcopy(self._desk.db) if self._desk else {}

    def _meta(self) -> dict[str, Any]:
        meta = self.base_metadata()
        meta["episode_id"] = self._state.episode_id
        meta["seed_honoured"] = self.supports_seed
        return meta

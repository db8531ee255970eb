"""Tools: answer a question about a small shop database using SQL and a calculator served over MCP.

Each episode gets its own in-memory sqlite database (filled from the seed) and one question about it. The
agent uses the tools ``sql`` (read-only SELECT) and ``calculator``, either

* over MCP: an MCP client connects to ``/mcp`` of the env server and sends the header
  ``X-OpenEnv-Episode-Id: <episode id from reset>`` (or ``X-Session-Id: <HTTP session id>``) on every request,
  so its calls act on that episode's database; or
* through ``step``: ``{"tool": "sql", "args": {"query": "..."}}`` returns the result in the observation.

The episode ends when the agent submits ``{"answer": "..."}`` (or after ``max_steps`` steps); the reward is
``weights.correct`` times 1 if the answer matches the reference, else 0. The reference answer never appears in
an observation or the state.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

from pydantic import Field, model_validator

from openenv_harness.mcp import EpisodeDirectory, MCPToolsMixin, ToolCallError, ToolRegistry
from openenv_harness.spec import Action, EnvError, Environment, ErrorCode, Observation, State, validated_init

from .calculator import calculate
from .database import SCHEMA, build_database, lock_read_only, run_query
from .tasks import Task, check_answer, make_task

TOOLS = ToolRegistry()
"""The agent-facing tools (served on /mcp and callable through step)."""


@TOOLS.tool(
    description="Run one read-only SQL SELECT on the shop database; returns columns and rows as JSON."
)
def sql(env: ToolsEnvironment, query: str) -> dict[str, Any]:
    """Run a read-only query on this episode's database."""
    return run_query(env._require_db(), query, max_rows=env.max_rows)


@TOOLS.tool(description="Evaluate an arithmetic expression, e.g. 'round(2 * 3.5 / 7, 2)'.")
def calculator(env: ToolsEnvironment, expression: str) -> float | int:
    """Evaluate arithmetic (numbers, + - * / // % **, abs, round, min, max, sqrt, log, exp)."""
    return calculate(expression)


class ToolsAction(Action):
    """Either call a tool or submit the final answer (exactly one of ``tool`` and ``answer``).

    Attributes:
        tool: Name of a tool to call (``sql`` or ``calculator``).
        args: The tool's arguments.
        answer: The final answer (ends the episode).
    """

    tool: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    answer: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ToolsAction:
        if (self.tool is None) == (self.answer is None):
            raise ValueError('send exactly one of {"tool": name, "args": {...}} or {"answer": text}')
        return self


class ToolsObservation(Observation):
    """What the agent sees.

    Attributes:
        question: The question to answer (every observation repeats it).
        schema_sql: The database schema (CREATE TABLE statements).
        tools: Name, description and input schema of each tool (after reset).
        tool_result: JSON text of the last step-based tool call's result.
        tool_error: The error message of the last tool call, if it failed.
    """

    question: str = ""
    schema_sql: str = ""
    tools: list[dict[str, Any]] = Field(default_factory=list)
    tool_result: str | None = None
    tool_error: str | None = None


class ToolsState(State):
    """Episode state: seed, question template and tool-call counts (no answer)."""

    seed: int | None = None
    template: str | None = None
    tool_calls: int = 0
    mcp_tool_calls: int = 0
    done: bool = False


@dataclass
class ToolsConfig:
    """Reward config: ``weights.correct`` scales the 0/1 correctness of the submitted answer."""

    schema_version: str = "1"
    weights: dict[str, float] = field(default_factory=lambda: {"correct": 1.0})


class ToolsEnvironment(MCPToolsMixin, Environment[ToolsAction, ToolsObservation]):
    """Question answering over a per-episode sqlite database with MCP tools.

    Args:
        max_steps: Steps (tool calls through step, plus the answer) before the episode ends unanswered.
        max_tool_calls: Tool calls (step-based and MCP together) allowed per episode.
        max_rows: Rows a query returns at most.
        template: Force one question template (default: the seed picks).
    """

    name = "tools"
    description = "Answer a question about a shop database with SQL and calculator tools served over MCP."
    version = "0.2.0"
    action_type = ToolsAction
    observation_type = ToolsObservation
    state_type = ToolsState
    config_type = ToolsConfig

    tool_registry = TOOLS
    mcp_name = "openenv-tools"
    episodes: ClassVar[EpisodeDirectory] = EpisodeDirectory()
    """Live episodes of this process, for MCP requests carrying ``X-OpenEnv-Episode-Id``."""

    @validated_init
    def __init__(
        self,
        max_steps: Annotated[int, Field(ge=1)] = 10,
        max_tool_calls: Annotated[int, Field(ge=0)] = 30,
        max_rows: Annotated[int, Field(ge=1)] = 50,
        template: str | None = None,
    ) -> None:
        super().__init__()
        self.max_steps = max_steps
        self.max_tool_calls = max_tool_calls
        self.max_rows = max_rows
        self.template = template
        self._lock = threading.RLock()  # step (server thread) and MCP calls (worker threads) share the db
        self._db: sqlite3.Connection | None = None
        self._task: Task | None = None
        self._state = ToolsState(done=True)

    # --- orchestrator API -------------------------------------------------------------------------------
    def reset(self, seed: int | None = None, episode_id: str | None = None, **task: Any) -> ToolsObservation:
        """Build this episode's database and question.

        Args:
            seed: Determines the database rows and the question.
            episode_id: Must be unique among live episodes (it selects the episode for MCP clients).
            **task: ``template`` to force a question template.
        """
        unknown = set(task) - {"template"}
        if unknown:
            raise EnvError(
                ErrorCode.VALIDATION_ERROR,
                f"tools takes only 'template' as task argument, got {sorted(unknown)}",
            )
        template = task.get("template", self.template)
        with self._lock:
            self._close_db()
            new_id = episode_id or uuid.uuid4().hex
            try:
                self.episodes.bind(new_id, self)
            except ValueError as exc:
                raise EnvError(ErrorCode.VALIDATION_ERROR, str(exc)) from None
            db = build_database(seed)
            try:
                self._task = make_task(db, seed, template)
            except ValueError as exc:
                db.close()
                self.episodes.unbind(new_id, self)
                raise EnvError(ErrorCode.VALIDATION_ERROR, str(exc)) from None
            lock_read_only(db)
            self._db = db
            self._state = ToolsState(episode_id=new_id, seed=seed, template=self._task.template)
            return self._observation(tools=TOOLS.describe())

    def step(self, action: ToolsAction, timeout_s: float | None = None) -> ToolsObservation:
        """Call a tool, or submit the answer and get the reward."""
        with self._lock:
            if self._state.done or self._task is None:
                raise EnvError(ErrorCode.EPISODE_DONE, "the episode is over; reset to start a new one")
            self._state.step_count += 1
            if action.answer is not None:
                return self._finish(action.answer)
            assert action.tool is not None
            result: str | None = None
            error: str | None = None
            try:
                result = json.dumps(self.call_tool(action.tool, action.args, via_mcp=False), default=str)
            except ToolCallError as exc:
                error = str(exc)
            if self._state.step_count >= self.max_steps:
                obs = self._finish(None)
                obs.tool_result, obs.tool_error = result, error
                return obs
            return self._observation(tool_result=result, tool_error=error, reward=0.0)

    @property
    def state(self) -> ToolsState:
        """Episode state (no reference answer)."""
        return self._state

    def close(self) -> None:
        """Drop the database and leave the episode directory."""
        with self._lock:
            self._close_db()

    def ground_truth(self) -> str | float | None:
        """The reference answer of the current episode (server-side only, for checks and rubrics)."""
        return self._task.answer if self._task else None

    # --- tools ------------------------------------------------------------------------------------------
    def call_tool(self, name: str, args: dict[str, Any], via_mcp: bool = True) -> Any:
        """Run one tool on this episode (the path shared by MCP and step-based calls).

        Raises:
            ToolCallError: if the episode is over, the budget is spent, or the tool failed.
        """
        with self._lock:
            if self._state.done or self._db is None:
                raise ToolCallError("the episode is over: tools are no longer available")
            if self._state.tool_calls >= self.max_tool_calls:
                raise ToolCallError(f"tool budget of {self.max_tool_calls} calls per episode is spent")
            self._state.tool_calls += 1
            if via_mcp:
                self._state.mcp_tool_calls += 1
            return TOOLS.call(self, name, args)

    def _require_db(self) -> sqlite3.Connection:
        if self._db is None:
            raise ToolCallError("no active episode")
        return self._db

    # --- helpers ----------------------------------------------------------------------------------------
    def _finish(self, answer: str | None) -> ToolsObservation:
        assert self._task is not None
        correct = 1.0 if answer is not None and check_answer(answer, self._task.answer) else 0.0
        weight = float(self.reward_config.weights.get("correct", 0.0))
        self._state.done = True
        self._close_db()
        obs = self._observation(reward=weight * correct, done=True)
        obs.metadata["reward_components"] = {"correct": correct}
        obs.metadata["reward_weights"] = {"correct": weight}
        obs.metadata["answered"] = answer is not None
        return obs

    def _observation(
        self, reward: float | None = None, done: bool = False, **fields: Any
    ) -> ToolsObservation:
        assert self._task is not None
        meta = self.base_metadata()
        meta.update(
            episode_id=self._state.episode_id,
            task={"template": self._task.template, "params": self._task.params},
            tool_calls=self._state.tool_calls,
        )
        return ToolsObservation(
            question=self._task.question,
            schema_sql=SCHEMA.strip(),
            reward=reward,
            done=done,
            metadata=meta,
            **fields,
        )

    def _close_db(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        self.episodes.unbind(self._state.episode_id, self)

    # --- server integration -----------------------------------------------------------------------------

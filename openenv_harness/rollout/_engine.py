"""The rollout engine: multi-turn episodes against env sessions from the pool, concurrently, batched.

Episodes advance turn by turn in waves of at most ``runtime.size`` (the session pool): every active episode's
chat goes to the policy in one batch, then all the resulting actions are stepped concurrently over the wire.
The chat grows with each observation (rendered by the env's adapter) until the env says ``done`` or
``max_turns`` is reached. Rewards come from the env (the observation's ``reward`` and
``metadata.reward_components``); nothing is scored on the trainer's side.

The same engine serves collect, GRPO (with ``trace=True`` the policy records the episode's tokens and which of
them it generated, see :class:`~openenv_harness.rollout.TokenTrace`) and evals. How an episode can end —
scored, invalid action, error — is described in :mod:`openenv_harness.rollout._types`.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Any

from ..spec import EnvError
from ._adapter import EnvAdapter
from ._policies import Chat, Policy
from ._runtime import EnvRuntime
from ._types import POLICY_FAULTS, Episode, Task, TokenTrace, obs_fields, turn_from_obs


@dataclass
class EngineStats:
    """Where a batch of episodes spent its wall time (summed over waves and turns)."""

    generation_s: float = 0.0
    env_s: float = 0.0
    turns: int = 0
    episodes: int = 0

    def add(self, other: EngineStats) -> None:
        """Accumulate another batch's figures."""
        self.generation_s += other.generation_s
        self.env_s += other.env_s
        self.turns += other.turns
        self.episodes += other.episodes


def _describe(exc: BaseException) -> str:
    if isinstance(exc, EnvError):
        return f"{exc.code}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"


async def first_observations(runtime: EnvRuntime, tasks: list[Task]) -> list[dict[str, Any]]:
    """Reset one session per task and return the first observations' fields (used to build prompts).

    The env's ``task_id`` is returned under the key ``_task_id``.
    """

    async def one(task: Task) -> dict[str, Any]:
        async def go(client: Any) -> dict[str, Any]:
            obs = await client.reset(seed=task.seed, **task.reset_kwargs)
            out = obs_fields(obs)
            out["_task_id"] = (obs.metadata or {}).get("task_id")
            return out

        result: dict[str, Any] = await runtime.with_session(go)
        return result

    return list(await asyncio.gather(*(one(t) for t in tasks)))


async def probe_determinism(runtime: EnvRuntime, task: Task) -> bool:
    """Two resets with the same task and seed must give the same first observation."""
    a, b = await first_observations(runtime, [task, task])
    return bool(a == b)


def initial_chat(adapter: EnvAdapter, first_obs: dict[str, Any], system_prompt: str | None = None) -> Chat:
    """The chat an episode starts from: the system prompt and the rendered first observation."""
    fields = {k: v for k, v in first_obs.items() if not k.startswith("_")}
    return [
        {"role": "system", "content": system_prompt or adapter.system_prompt},
        {"role": "user", "content": adapter.render(fields)},
    ]


async def run_episodes(
    runtime: EnvRuntime,
    policy: Policy,
    adapter: EnvAdapter,
    tasks: list[Task],
    *,
    system_prompt: str | None = None,
    max_turns: int = 8,
    temperature: float | None = None,
    phase: str = "train",
    trace: bool = False,
    stats: EngineStats | None = None,
) -> list[Episode]:
    """Run one full episode per task (multi-turn until done or ``max_turns``).

    Args:
        runtime: The run's env servers and session pool.
        policy: Produces each turn's text (a scripted policy acts on observations instead).
        adapter: The env's text interface (render observation, parse reply).
        tasks: One episode per task, in order.
        system_prompt: Overrides the adapter's system prompt.
        max_turns: Turns before an unfinished episode is cut (``truncated``).
        temperature: Sampling temperature for this batch (None: the policy's own).
        phase: Recorded on each episode (``train``, ``eval``, ...).
        trace: Have the policy record each episode's tokens (GRPO); needs a policy that can (``HFPolicy``).
        stats: Accumulates generation/env time and turn counts when given.

    Returns:
        Episodes in task order; an env error ends its episode with ``error`` set (the others continue).
    """
    if trace and not getattr(policy, "can_trace", False):
        raise ValueError(f"policy {policy.name!r} cannot record tokens; GRPO needs a local model (policy=hf)")
    episodes: list[Episode] = []
    for start in range(0, len(tasks), runtime.size):
        wave = tasks[start : start + runtime.size]
        episodes.extend(
            await _Wave(runtime, policy, adapter, wave, system_prompt, phase, trace, stats).run(
                max_turns, temperature
            )
        )
    return episodes


class _Wave:
    """One wave of episodes, each on its own session for its whole life."""

    def __init__(
        self,
        runtime: EnvRuntime,
        policy: Policy,
        adapter: EnvAdapter,
        tasks: list[Task],
        system_prompt: str | None,
        phase: str,
        trace: bool,
        stats: EngineStats | None,
    ) -> None:
        self.runtime, self.policy, self.adapter, self.tasks = runtime, policy, adapter, tasks
        self.system_prompt = system_prompt
        self.stats = stats if stats is not None else EngineStats()
        self.eps = [
            Episode(seed=t.seed, phase=phase, env=runtime.env_id, trace=TokenTrace() if trace else None)
            for t in tasks
        ]
        self.chats: list[Chat] = [[] for _ in tasks]
        self.last_obs: list[dict[str, Any]] = [{} for _ in tasks]
        self.clients: list[Any] = []
        # Read once: attribute access on an OmegaConf node costs more than a step's own engine work.
        self.step_timeout_s = float(runtime.cfg.step_timeout_s)

    async def run(self, max_turns: int, temperature: float | None) -> list[Episode]:
        free = await self.runtime.pool()
        self.clients = [await free.get() for _ in self.tasks]
        try:
            t0 = time.perf_counter()
            await asyncio.gather(*(self._reset(i) for i in range(len(self.tasks))))
            self.stats.env_s += time.perf_counter() - t0
            for _ in range(max_turns):
                active = [i for i, e in enumerate(self.eps) if not self._ended(e)]
                if not active:
                    break
                texts = await self._generate(active, temperature)
                t0 = time.perf_counter()
                await asyncio.gather(*(self._step(i, t) for i, t in zip(active, texts, strict=True)))
                self.stats.env_s += time.perf_counter() - t0
                self.stats.turns += len(active)
            for e in self.eps:
                if not self._ended(e):
                    e.truncated = True  # cut at max_turns: scored with what it earned so far
            self.stats.episodes += len(self.eps)
            return self.eps
        finally:
            for c in self.clients:
                free.put_nowait(c)

    @staticmethod
    def _ended(e: Episode) -> bool:
        return e.done or e.error is not None or e.invalid_action is not None

    async def _reset(self, i: int) -> None:
        task, ep = self.tasks[i], self.eps[i]
        try:
            obs = await self.clients[i].reset(seed=task.seed, **task.reset_kwargs)
        except Exception as exc:  # any failure to start is the infrastructure's, never the policy's
            ep.fail(f"reset: {_describe(exc)}")
            return
        ep.task_id = (obs.metadata or {}).get("task_id")
        self.last_obs[i] = obs_fields(obs)
        self.chats[i] = initial_chat(self.adapter, self.last_obs[i], self.system_prompt)

    async def _generate(self, active: list[int], temperature: float | None) -> list[str]:
        t0 = time.perf_counter()
        try:
            if hasattr(self.policy, "act"):  # scripted: acts on the observation, no model
                return [self.policy.act(self.last_obs[i], self.chats[i]) for i in active]
            chats = [self.chats[i] for i in active]
            if self.eps[active[0]].trace is not None:
                traces = [t for t in (self.eps[i].trace for i in active) if t is not None]
                return await self.policy.agenerate(chats, temperature=temperature, traces=traces)
            return await self.policy.agenerate(chats, temperature=temperature)
        finally:
            self.stats.generation_s += time.perf_counter() - t0

    async def _step(self, i: int, text: str) -> None:
        ep = self.eps[i]
        prompt = self.chats[i][-1]["content"]
        self.chats[i].append({"role": "assistant", "content": text})
        try:
            action = self.adapter.to_action(text)
        except ValueError as exc:  # the reply cannot be made into an action: the policy's mistake
            ep.invalid_action = f"PARSE_ERROR: {exc}"
            return
        try:
            obs = await self.clients[i].step(action, timeout_s=self.step_timeout_s)
        except EnvError as exc:
            if str(exc.code).startswith(POLICY_FAULTS):
                ep.invalid_action = _describe(exc)
            else:
                ep.fail(_describe(exc))
            return
        except Exception as exc:  # lost connection, protocol error: infrastructure
            ep.fail(_describe(exc))
            return
        turn = turn_from_obs(prompt, text, action, obs)
        ep.turns.append(turn)
        ep.done = turn.done
        if turn.reward is not None and not math.isfinite(float(turn.reward)):
            ep.fail(f"reward {turn.reward} is not a finite number")
            return
        if turn.reward is None:
            if turn.done:  # the env could not score the finished episode (e.g. a judge outage)
                ep.fail("reward is None at the end of the episode (the env could not score it)")
                return
        elif ep.reward is not None:
            ep.reward += float(turn.reward)
        self.last_obs[i] = obs_fields(obs)
        if not turn.done:
            self.chats[i].append({"role": "user", "content": self.adapter.render(self.last_obs[i])})

"""The rollout engine: episodes against env sessions from the pool, concurrently, with batched generation.

Episodes advance turn by turn in waves of at most ``pool size``: every active episode's chat goes to the
policy in one batch, then all the resulting actions are stepped concurrently. Rewards come from the env (the
observation's ``reward`` and ``metadata.reward_components``); nothing is scored on the trainer's side.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ..spec import EnvError
from .adapters import EnvAdapter
from .policies import Chat, Policy, ScriptedPolicy
from .runtime import EnvRuntime

_RESERVED = ("done", "reward", "metadata")


def obs_fields(obs: Any) -> dict[str, Any]:
    """The env-specific fields of a typed observation (without done/reward/metadata)."""
    data = obs.model_dump(mode="json") if hasattr(obs, "model_dump") else dict(obs)
    return {k: v for k, v in data.items() if k not in _RESERVED}


@dataclass
class Task:
    """One task: the reset seed plus extra reset arguments (e.g. a taskset split)."""

    seed: int
    reset_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Turn:
    """One step of an episode."""

    prompt: str
    completion: str
    action: dict[str, Any]
    reward: float | None
    components: dict[str, float]
    weights: dict[str, float]
    config_version: int | None
    done: bool


@dataclass
class Episode:
    """One finished (or failed) episode; a line of ``episodes.jsonl``."""

    seed: int
    task_id: str | None = None
    turns: list[Turn] = field(default_factory=list)
    reward: float = 0.0
    done: bool = False
    error: str | None = None
    step: int | None = None
    phase: str = "train"
    group: int | None = None

    @property
    def components(self) -> dict[str, float]:
        """Reward components of the last turn."""
        return self.turns[-1].components if self.turns else {}

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable record."""
        return asdict(self)


def turn_from_obs(prompt: str, completion: str, action: dict[str, Any], obs: Any) -> Turn:
    """Build a :class:`Turn` from the observation a step returned."""
    meta = dict(getattr(obs, "metadata", {}) or {})
    return Turn(
        prompt=prompt,
        completion=completion,
        action=action,
        reward=getattr(obs, "reward", None),
        components={k: float(v) for k, v in (meta.get("reward_components") or {}).items()},
        weights={k: float(v) for k, v in (meta.get("reward_weights") or {}).items()},
        config_version=meta.get("config_version"),
        done=bool(getattr(obs, "done", False)),
    )


async def first_observations(runtime: EnvRuntime, tasks: list[Task]) -> list[dict[str, Any]]:
    """Reset one session per task and return the first observations' fields (used to build prompts)."""

    async def one(task: Task) -> dict[str, Any]:
        async def go(client: Any) -> dict[str, Any]:
            obs = await client.reset(seed=task.seed, **task.reset_kwargs)
            out = obs_fields(obs)
            out["_task_id"] = (obs.metadata or {}).get("task_id")
            return out

        result: dict[str, Any] = await runtime.with_session(go)
        return result

    return list(await asyncio.gather(*(one(t) for t in tasks)))


async def score_actions(
    runtime: EnvRuntime, items: list[tuple[Task, str, str, dict[str, Any]]]
) -> list[tuple[Turn | None, str | None]]:
    """Reset with each task's seed and step once with its action, concurrently over the pool.

    Args:
        runtime: The run's env runtime (its session pool).
        items: ``(task, prompt, completion, action)`` per completion.

    Returns:
        ``(turn, None)`` per item, or ``(None, error message)`` when the env refused the action or failed.
    """

    async def one(
        task: Task, prompt: str, completion: str, action: dict[str, Any]
    ) -> tuple[Turn | None, str | None]:
        async def go(client: Any) -> tuple[Turn | None, str | None]:
            try:
                await client.reset(seed=task.seed, **task.reset_kwargs)
                obs = await client.step(action, timeout_s=runtime.cfg.step_timeout_s)
            except EnvError as exc:
                return None, f"{exc.code}: {exc.message}"
            return turn_from_obs(prompt, completion, action, obs), None

        result: tuple[Turn | None, str | None] = await runtime.with_session(go)
        return result

    return list(await asyncio.gather(*(one(*it) for it in items)))


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
) -> list[Episode]:
    """Run one full episode per task (multi-turn until done or ``max_turns``).

    Returns:
        Episodes in task order; an env error ends its episode with ``error`` set (others continue).
    """
    episodes: list[Episode] = []
    for start in range(0, len(tasks), runtime.size):
        wave = tasks[start : start + runtime.size]
        episodes.extend(
            await _run_wave(runtime, policy, adapter, wave, system_prompt, max_turns, temperature, phase)
        )
    return episodes


async def _run_wave(
    runtime: EnvRuntime,
    policy: Policy,
    adapter: EnvAdapter,
    wave: list[Task],
    system_prompt: str | None,
    max_turns: int,
    temperature: float | None,
    phase: str,
) -> list[Episode]:
    free = await runtime.pool()
    clients = [await free.get() for _ in wave]
    try:
        eps = [Episode(seed=t.seed, phase=phase) for t in wave]
        chats: list[Chat] = [
            [{"role": "system", "content": system_prompt or adapter.system_prompt}] for _ in wave
        ]
        last_obs: list[dict[str, Any]] = [{} for _ in wave]

        async def reset(i: int) -> None:
            try:
                obs = await clients[i].reset(seed=wave[i].seed, **wave[i].reset_kwargs)
            except EnvError as exc:
                eps[i].error = f"{exc.code}: {exc.message}"
                return
            eps[i].task_id = (obs.metadata or {}).get("task_id")
            last_obs[i] = obs_fields(obs)
            chats[i].append({"role": "user", "content": adapter.render(last_obs[i])})

        await asyncio.gather(*(reset(i) for i in range(len(wave))))
        for _ in range(max_turns):
            active = [i for i, e in enumerate(eps) if not e.done and e.error is None]
            if not active:
                break
            if isinstance(policy, ScriptedPolicy):
                texts = [policy.act(last_obs[i], chats[i]) for i in active]
            else:
                texts = await policy.agenerate([chats[i] for i in active], temperature=temperature)

            async def step(i: int, text: str) -> None:
                action = adapter.to_action(text)
                prompt = chats[i][-1]["content"]
                chats[i].append({"role": "assistant", "content": text})
                try:
                    obs = await clients[i].step(action, timeout_s=runtime.cfg.step_timeout_s)
                except EnvError as exc:
                    eps[i].error = f"{exc.code}: {exc.message}"
                    return
                turn = turn_from_obs(prompt, text, action, obs)
                eps[i].turns.append(turn)
                eps[i].reward += float(turn.reward or 0.0)
                eps[i].done = turn.done
                last_obs[i] = obs_fields(obs)
                if not turn.done:
                    chats[i].append({"role": "user", "content": adapter.render(last_obs[i])})

            await asyncio.gather(*(step(i, t) for i, t in zip(active, texts, strict=True)))
        return eps
    finally:
        for c in clients:
            free.put_nowait(c)


def summarize(episodes: list[Episode], success_component: str = "correct") -> dict[str, float]:
    """Aggregate metrics: reward mean, mean of each component, success rate, error rate.

    ``success`` is the mean of the ``success_component`` component when episodes report it, else the
    fraction of episodes with a positive reward.
    """
    n = len(episodes)
    if n == 0:
        return {"n": 0.0}
    ok = [e for e in episodes if e.error is None]
    out: dict[str, float] = {"n": float(n), "error_rate": (n - len(ok)) / n}
    out["reward_mean"] = sum(e.reward for e in ok) / max(1, len(ok))
    comps: dict[str, list[float]] = {}
    for e in ok:
        for k, v in e.components.items():
            comps.setdefault(k, []).append(v)
    for k, vs in comps.items():
        out[f"component/{k}"] = sum(vs) / len(vs)
    if success_component in comps:
        # Errored episodes count as failures, not as missing.
        out["success"] = sum(comps[success_component]) / n
    else:
        out["success"] = sum(1 for e in ok if e.reward > 0) / n
    return out


class Throughput:
    """Counts episodes per second over a window (rollout throughput for TensorBoard)."""

    def __init__(self) -> None:
        self._t = time.monotonic()

    def rate(self, count: int) -> float:
        """``count`` per second since the last call."""
        now = time.monotonic()
        dt, self._t = max(1e-9, now - self._t), now
        return count / dt

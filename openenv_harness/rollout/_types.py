"""Records of the rollout engine: tasks, turns, episodes, and the token trace a trained policy leaves.

An episode ends in one of three ways, and they are never confused:

* **scored** — the env returned a finished observation with a reward (``reward`` is a float, ``error`` None);
  an episode cut at ``max_turns`` is scored too (``truncated``), with the rewards it earned so far;
* **invalid action** — the env refused the policy's action (``VALIDATION_ERROR``/``EPISODE_DONE``): that is the
  policy's mistake, scored ``0.0`` like a wrong answer (otherwise a policy could dodge a bad reward by emitting
  garbage), with ``invalid_action`` naming the refusal;
* **error** — infrastructure failed (env crash, timeout, lost connection, a ``None`` reward at the end, e.g. a
  judge outage): ``reward`` is ``None`` and ``error`` says why. Errors are masked out of the GRPO loss,
  counted in ``rollout/error_rate`` and kept apart from wrong answers in evals; they are never a zero.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

_RESERVED = ("done", "reward", "metadata")
_EXCLUDE = set(_RESERVED)

POLICY_FAULTS = ("VALIDATION_ERROR", "EPISODE_DONE")
"""Error codes that mean the env refused the policy's action (a wrong answer, not an infrastructure error)."""


def obs_fields(obs: Any) -> dict[str, Any]:
    """The env-specific fields of an observation (without done/reward/metadata)."""
    serializer = getattr(type(obs), "__pydantic_serializer__", None)
    if serializer is not None:
        # The model's compiled serializer, called directly: a quarter of model_dump's cost per turn.
        data: dict[str, Any] = serializer.to_python(obs, mode="json", exclude=_EXCLUDE)
        return data
    return {k: v for k, v in dict(obs).items() if k not in _RESERVED}


@dataclass
class Task:
    """One task: the reset seed plus extra reset arguments (e.g. a taskset split and index)."""

    seed: int
    reset_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Turn:
    """One step of an episode: what the policy saw and said, and what the env answered."""

    prompt: str
    completion: str
    action: dict[str, Any]
    reward: float | None
    components: dict[str, float]
    weights: dict[str, float]
    config_version: int | None
    done: bool
    step_credits: list[float] | None = None


@dataclass
class TokenTrace:
    """The tokens of one episode as the trained model saw them.

    ``prompt_ids`` is the first prompt (system + first observation, chat-templated). ``completion_ids`` is
    everything after it: the model's turns and, between them, the environment's turns rendered by the chat
    template. ``env_mask`` has one entry per completion token: 1 for tokens the model generated (trained), 0
    for tokens the environment added (masked out of the loss). ``turn_of`` gives each completion token's turn
    index (env tokens carry the turn they precede), for per-step credit.
    """

    prompt_ids: list[int] = field(default_factory=list)
    completion_ids: list[int] = field(default_factory=list)
    env_mask: list[int] = field(default_factory=list)
    turn_of: list[int] = field(default_factory=list)
    messages_seen: int = 0
    turns: int = 0

    def add(self, ids: list[int], *, model: bool) -> None:
        """Append tokens: the model's own (``model=True``) or the environment's."""
        self.completion_ids.extend(ids)
        self.env_mask.extend([1 if model else 0] * len(ids))
        self.turn_of.extend([self.turns] * len(ids))


@dataclass
class Episode:
    """One finished (or failed) episode; a line of ``episodes.jsonl``."""

    seed: int
    task_id: str | None = None
    turns: list[Turn] = field(default_factory=list)
    reward: float | None = 0.0
    done: bool = False
    truncated: bool = False
    error: str | None = None
    invalid_action: str | None = None
    step: int | None = None
    phase: str = "train"
    group: int | None = None
    env: str | None = None
    trace: TokenTrace | None = None

    @property
    def components(self) -> dict[str, float]:
        """Reward components of the last turn."""
        return self.turns[-1].components if self.turns else {}

    @property
    def num_turns(self) -> int:
        """Turns taken."""
        return len(self.turns)

    def fail(self, message: str) -> None:
        """End the episode as an infrastructure error (reward None)."""
        self.error, self.reward = message, None

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable record (the token trace is summarised, not dumped)."""
        out = asdict(self)
        trace = out.pop("trace")
        out["num_turns"] = self.num_turns
        if trace is not None:
            out["tokens"] = {
                "prompt": len(trace["prompt_ids"]),
                "model": sum(trace["env_mask"]),
                "env": len(trace["env_mask"]) - sum(trace["env_mask"]),
            }
        return out


def turn_from_obs(prompt: str, completion: str, action: dict[str, Any], obs: Any) -> Turn:
    """Build a :class:`Turn` from the observation a step returned."""
    meta = dict(getattr(obs, "metadata", {}) or {})
    credits = meta.get("step_credits")
    return Turn(
        prompt=prompt,
        completion=completion,
        action=action,
        reward=getattr(obs, "reward", None),
        components={k: float(v) for k, v in (meta.get("reward_components") or {}).items()},
        weights={k: float(v) for k, v in (meta.get("reward_weights") or {}).items()},
        config_version=meta.get("config_version"),
        done=bool(getattr(obs, "done", False)),
        step_credits=[float(c) for c in credits] if isinstance(credits, list) else None,
    )

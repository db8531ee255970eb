"""Simulated users: a deterministic scripted customer (default) and an LLM over an OpenAI-compatible endpoint.

Both see only the conversation and their own goal. A user's reply is ``(text, done)``: ``done`` ends the
episode (the user is satisfied, or gives up). The LLM user ends the conversation by writing ``###STOP###``
(the convention of tau-bench's user simulator); the scripted one when the goal is met in the database and
the agent told it what it wanted to know.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, Protocol

import httpx
from pydantic import AfterValidator, ConfigDict, TypeAdapter

from openenv_harness.spec import EnvError, ErrorCode

from .data import Goal

STOP = "###STOP###"


@dataclass
class UserSimConfig:
    """How the simulated user is played.

    Attributes:
        kind: ``scripted`` (deterministic given the seed) or ``llm``.
        base_url: OpenAI-compatible API root, e.g. ``http://127.0.0.1:8000/v1`` (``llm`` only).
        model: Model name sent to the endpoint.
        temperature: Sampling temperature.
        top_p: Nucleus sampling.
        max_tokens: Reply length limit.
        seed: Sampling seed sent to the endpoint (None: the episode seed).
        api_key_env: Name of the environment variable holding the API key (never the key itself).
        timeout_s: HTTP timeout per request.
        extra_body: Extra JSON fields for the request (e.g. ``{"stop": [...]}``).
    """

    kind: Literal["scripted", "llm"] = "scripted"
    base_url: str = ""
    model: str = ""
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 200
    seed: int | None = None
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 60.0
    extra_body: dict[str, Any] = field(default_factory=dict)

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(extra="forbid")  # a misspelt field is an error

    def __post_init__(self) -> None:
        if self.kind not in ("scripted", "llm"):
            raise ValueError(f"user.kind must be 'scripted' or 'llm', got {self.kind!r}")
        if self.kind == "llm" and not (self.base_url and self.model):
            raise ValueError("user.kind='llm' needs user.base_url and user.model")
        if not 0 <= self.temperature <= 2 or not 0 < self.top_p <= 1 or self.max_tokens < 1:
            raise ValueError(
                "user sampling params out of range: temperature in [0, 2], top_p in (0, 1], max_tokens >= 1"
            )


def _user_fields(value: Any) -> Any:
    """The dict form (a config file's ``env.kwargs.user``) is checked field by field as a UserSimConfig."""
    return TypeAdapter(UserSimConfig).validate_python(value) if isinstance(value, dict) else value


UserArg = Annotated[UserSimConfig | dict[str, Any] | None, AfterValidator(_user_fields)]
"""How ``SupportEnvironment(user=...)`` is declared: a UserSimConfig, its fields as a dict, or None."""


class SimulatedUser(Protocol):
    """The interface both users implement."""

    def opening(self) -> str:
        """The user's first message."""
        ...

    def reply(self, agent_message: str, db: dict[str, Any]) -> tuple[str, bool]:
        """Answer the agent; ``done`` is True when the user ends the conversation."""
        ...


def goal_met(goal: Goal, db: dict[str, Any]) -> bool:
    """Whether the requested change is in the database."""
    order = db["orders"][goal.order_id]
    if goal.kind == "cancel":
        return order["status"] == "cancelled"  # type: ignore[no-any-return]
    if goal.kind == "change_address":
        return order["address"] == goal.new_address  # type: ignore[no-any-return]
    return order["status"] == "return_requested"  # type: ignore[no-any-return]


_WANTS = {
    "cancel": ["I'd like to cancel my order of the {item}.", "Please cancel the {item} I ordered."],
    "change_address": [
        "I need to change the shipping address of my {item} order.",
        "Can you send my {item} to a different address?",
    ],
    "return": [
        "I want to return the {item} I received.",
        "The {item} I got isn't right, I'd like to return it.",
    ],
}
_ASK_FACT = {
    "cancel": "How much will I get refunded?",
    "return": "What's the return label code?",
    "change_address": "Which order number did you change?",
}


class ScriptedUser:
    """A rule-based customer: answers questions about its email, order and address; deterministic per seed."""

    def __init__(self, goal: Goal, seed: int | None) -> None:
        self.goal = goal
        self.rng = random.Random(seed)
        self.told: list[str] = []
        self.unhelpful = 0
        self.asked_fact = False

    def opening(self) -> str:
        """Greeting plus the request, without details (the agent has to ask)."""
        return f"Hi! {self.rng.choice(_WANTS[self.goal.kind]).format(item=self.goal.item)}"

    def reply(self, agent_message: str, db: dict[str, Any]) -> tuple[str, bool]:
        """Answer by keywords; end once the goal is met and its fact was said (or asked for once)."""
        self.told.append(agent_message)
        text = agent_message.lower()
        g = self.goal
        if goal_met(g, db):
            if any(g.must_say.lower() in m.lower() for m in self.told) or self.asked_fact:
                return "Great, thank you! That's all I needed.", True
            self.asked_fact = True
            return f"Thanks. {_ASK_FACT[g.kind]}", False
        parts = []
        if "email" in text:
            parts.append(f"My email is {g.email}.")
        if "address" in text and g.kind == "change_address":
            parts.append(f"The new address is {g.new_address}.")
        if re.search(r"\border\b.*\b(number|id|which)\b|\b(number|id|which)\b.*\border\b", text):
            parts.append(f"It's order {g.order_id}.")
        if "name" in text:
            parts.append(f"I'm {g.name}.")
        if parts:
            return " ".join(parts), False
        self.unhelpful += 1
        if self.unhelpful >= 2:  # spell everything out so a terse agent can still succeed
            extra = f" The new address is {g.new_address}." if g.kind == "change_address" else ""
            return (
                f"{_WANTS[g.kind][0].format(item=g.item)} It's order {g.order_id}, my email is "
                f"{g.email}.{extra}"
            ), False
        return "Can you help me with that?", False


def _system_prompt(goal: Goal) -> str:
    details = (
        f"Your name is {goal.name}, your email is {goal.email}, the order is {goal.order_id} ({goal.item})."
    )
    if goal.kind == "change_address":
        details += f" The new address is '{goal.new_address}'."
    return (
        "You are a customer talking to an online shop's support agent. Your goal: "
        f"{goal.instruction()}. {details} Reveal a detail only when the agent asks for it. Write short, "
        f"natural messages, one at a time. When your request is done and you got the information you wanted, "
        f"or the agent clearly cannot help, write {STOP}."
    )


class LLMUser:
    """A customer played by a chat model behind an OpenAI-compatible ``/chat/completions`` endpoint.

    Roles are flipped as in tau-bench: the simulated user is the model (``assistant``), the support agent's
    messages are ``user`` messages.
    """

    def __init__(self, goal: Goal, config: UserSimConfig, seed: int | None) -> None:
        self.goal = goal
        self.config = config
        self.seed = config.seed if config.seed is not None else seed
        self.messages: list[dict[str, str]] = [{"role": "system", "content": _system_prompt(goal)}]

    def _complete(self) -> str:
        cfg = self.config
        body: dict[str, Any] = {
            "model": cfg.model,
            "messages": self.messages,
            "temperature": cfg.temperature,
            "top_p": cfg.top_p,
            "max_tokens": cfg.max_tokens,
            **cfg.extra_body,
        }
        if self.seed is not None:
            body["seed"] = self.seed
        headers = {}
        key = os.environ.get(cfg.api_key_env) if cfg.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        url = cfg.base_url.rstrip("/") + "/chat/completions"
        try:
            resp = httpx.post(url, json=body, headers=headers, timeout=cfg.timeout_s)
        except httpx.HTTPError as exc:
            raise EnvError(
                ErrorCode.ENV_ERROR, f"user simulator endpoint {url} unreachable: {type(exc).__name__}: {exc}"
            ) from None
        if resp.status_code != 200:
            raise EnvError(
                ErrorCode.ENV_ERROR,
                f"user simulator endpoint {url} answered {resp.status_code}: {resp.text[:300]}",
            )
        try:
            content = resp.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise EnvError(
                ErrorCode.ENV_ERROR,
                f"user simulator endpoint {url} sent no chat completion: {resp.text[:300]}",
            ) from None
        text = str(content or "").strip()
        self.messages.append({"role": "assistant", "content": text})
        return text

    def opening(self) -> str:
        """The model's first message, prompted by the agent's standard greeting."""
        self.messages.append({"role": "user", "content": "Hi! How can I help you today?"})
        text, _ = self._split(self._complete())
        return text

    def reply(self, agent_message: str, db: dict[str, Any]) -> tuple[str, bool]:
        """Send the agent's message; the model ends the conversation with ``###STOP###``."""
        self.messages.append({"role": "user", "content": agent_message})
        return self._split(self._complete())

    @staticmethod
    def _split(text: str) -> tuple[str, bool]:
        done = STOP in text
        return text.replace(STOP, "").strip(), done


def make_user(goal: Goal, config: UserSimConfig, seed: int | None) -> ScriptedUser | LLMUser:
    """The configured simulated user for one episode."""
    return LLMUser(goal, config, seed) if config.kind == "llm" else ScriptedUser(goal, seed)

"""Policies: what turns a chat (system + user/assistant turns) into the next assistant message.

* :class:`~openenv_harness.rollout.HFPolicy` (:mod:`._hf`) — a local transformers causal LM (the embedded
  SmolLM2-135M-Instruct by default); the only kind that can record token traces for training.
* :class:`OpenAIPolicy` — any OpenAI-compatible ``/v1/chat/completions`` endpoint over httpx.
* :class:`ScriptedPolicy` — the environment adapter's fixed baseline.
"""

from __future__ import annotations

import asyncio
import os
from abc import ABC, abstractmethod
from typing import Any

import httpx

from ..config import PolicyConfig
from ._adapter import EnvAdapter
from ._http_pool import ShardedAsyncHTTP
from ._types import TokenTrace

Chat = list[dict[str, str]]
"""A conversation: ``[{"role": "system"|"user"|"assistant", "content": str}, ...]``."""


class PolicyError(RuntimeError):
    """A policy could not produce an answer (unreachable endpoint, bad reply...)."""


class Policy(ABC):
    """Produces one assistant message per chat."""

    name: str = "policy"
    can_trace: bool = False
    """Whether :meth:`agenerate` can record token traces (``traces=``), which GRPO trains on."""

    @abstractmethod
    def generate(
        self, chats: list[Chat], *, temperature: float | None = None, max_new_tokens: int | None = None
    ) -> list[str]:
        """The next assistant message of each chat (same order)."""

    async def agenerate(
        self,
        chats: list[Chat],
        *,
        temperature: float | None = None,
        max_new_tokens: int | None = None,
        traces: list[TokenTrace] | None = None,
    ) -> list[str]:
        """Async :meth:`generate` (a worker thread by default, so the event loop keeps serving envs).

        Raises:
            PolicyError: ``traces`` were asked of a policy that cannot record tokens.
        """
        if traces is not None:
            raise PolicyError(f"policy {self.name!r} cannot record token traces")
        return await asyncio.to_thread(
            self.generate, chats, temperature=temperature, max_new_tokens=max_new_tokens
        )

    def describe(self) -> dict[str, Any]:
        """Identity and sampling parameters, for run records and bundles."""
        return {"name": self.name}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""


class OpenAIPolicy(Policy):
    """An OpenAI-compatible chat-completions endpoint.

    Args:
        base_url: E.g. ``http://127.0.0.1:8000/v1``.
        model: Model name sent in each request.
        api_key: Bearer token (optional).
        temperature: Default temperature.
        top_p: Nucleus sampling.
        max_new_tokens: ``max_tokens`` of each request.
        seed: Sent as ``seed`` (servers that support it make sampling repeatable).
        timeout_s: Per-request timeout.
        concurrency: Requests in flight at once.
    """

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        temperature: float = 0.0,
        top_p: float = 1.0,
        max_new_tokens: int = 48,
        seed: int = 0,
        timeout_s: float = 60.0,
        concurrency: int = 8,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.temperature, self.top_p, self.max_new_tokens = temperature, top_p, max_new_tokens
        self.seed, self.timeout_s, self.concurrency = seed, timeout_s, max(1, concurrency)
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def describe(self) -> dict[str, Any]:
        """Endpoint, model and sampling parameters (never the key)."""
        return {
            "name": self.name,
            "base_url": self.base_url,
            "model": self.model,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_new_tokens": self.max_new_tokens,
            "seed": self.seed,
        }

    def _body(self, chat: Chat, temperature: float, budget: int) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": chat,
            "temperature": temperature,
            "top_p": self.top_p,
            "max_tokens": budget,
            "seed": self.seed,
        }

    @staticmethod
    def _content(reply: httpx.Response, url: str) -> str:
        if reply.status_code != 200:
            raise PolicyError(f"POST {url} -> HTTP {reply.status_code}: {reply.text[:300]}")
        try:
            return str(reply.json()["choices"][0]["message"]["content"] or "").strip()
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise PolicyError(
                f"POST {url}: not a chat-completions reply ({exc}): {reply.text[:300]}"
            ) from None

    async def agenerate(
        self,
        chats: list[Chat],
        *,
        temperature: float | None = None,
        max_new_tokens: int | None = None,
        traces: list[TokenTrace] | None = None,
    ) -> list[str]:
        """Concurrent requests, at most ``concurrency`` in flight (no token traces: the server keeps them)."""
        if traces is not None:
            raise PolicyError("an OpenAI-compatible endpoint returns text, not the token traces GRPO needs")
        temp = self.temperature if temperature is None else temperature
        budget = self.max_new_tokens if max_new_tokens is None else max_new_tokens
        url = f"{self.base_url}/chat/completions"
        # Small pools that never queue: one httpx pool with thousands of requests in flight costs CPU per request
        # that grows with their number (see _http_pool).
        async with ShardedAsyncHTTP(
            self.concurrency, timeout=self.timeout_s, headers=self._headers
        ) as client:

            async def one(chat: Chat) -> str:
                try:
                    reply = await client.post(url, json=self._body(chat, temp, budget))
                except httpx.HTTPError as exc:
                    raise PolicyError(f"POST {url} failed: {exc!r}") from None
                return self._content(reply, url)

            return list(await asyncio.gather(*(one(c) for c in chats)))

    def generate(
        self, chats: list[Chat], *, temperature: float | None = None, max_new_tokens: int | None = None
    ) -> list[str]:
        """Blocking :meth:`agenerate` (for callers without an event loop)."""
        return asyncio.run(self.agenerate(chats, temperature=temperature, max_new_tokens=max_new_tokens))


class ScriptedPolicy(Policy):
    """The environment adapter's deterministic baseline; it reads the latest observation, not the chat text."""

    name = "scripted"

    def __init__(self, adapter: EnvAdapter) -> None:
        self.adapter = adapter
        self.observations: dict[int, dict[str, Any]] = {}

    def describe(self) -> dict[str, Any]:
        """Which env's baseline this is."""
        return {"name": self.name, "env": self.adapter.env_id}

    def act(self, obs: dict[str, Any], chat: Chat) -> str:
        """The baseline's answer to an observation."""
        return self.adapter.scripted(obs, chat)

    def generate(
        self, chats: list[Chat], *, temperature: float | None = None, max_new_tokens: int | None = None
    ) -> list[str]:
        """Not used: the rollout engine calls :meth:`act` with the observations directly."""
        raise PolicyError("ScriptedPolicy acts on observations; use act()")


def make_policy(cfg: PolicyConfig | Any, adapter: EnvAdapter) -> Policy:
    """Build the policy a ``policy`` config describes.

    Raises:
        ValueError: for a missing ``base_url`` or an unset key variable, naming the field.
    """
    kind = str(getattr(cfg.kind, "value", cfg.kind))
    if kind == "scripted":
        return ScriptedPolicy(adapter)
    if kind == "openai":
        if not cfg.base_url:
            raise ValueError("policy.base_url is required for policy.kind=openai")
        key = None
        if cfg.api_key_env:
            key = os.environ.get(cfg.api_key_env)
        return OpenAIPolicy(
            cfg.base_url,
            cfg.model,
            api_key=key,
            temperature=cfg.temperature,
            top_p=cfg.top_p,
            max_new_tokens=cfg.max_new_tokens,
            seed=cfg.seed,
            timeout_s=cfg.timeout_s,
        )
    from ._hf import HFPolicy
    from ._model_cache import resolve_model_path

    return HFPolicy(
        resolve_model_path(cfg.model, cfg.path),
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        max_new_tokens=cfg.max_new_tokens,
        seed=cfg.seed,
        batch_size=cfg.batch_size,
    )

"""A local transformers model as a policy, and the token traces GRPO trains on.

:class:`HFPolicy` generates batched and chat-templated, greedy when ``temperature == 0`` (deterministic, which
eval bundles rely on) and seeded sampling otherwise. It can wrap a model that is being trained (the GRPO
learner's).

With ``traces=`` (one :class:`~openenv_harness.rollout.TokenTrace` per chat) it generates from token ids
instead of re-tokenised text, so the ids TRL trains on are exactly the ids the model produced. Between two of
the model's turns the environment's turn (the next user message, with the chat template's markup around it)
is appended with mask 0. That markup is found without knowing the template: the chat is rendered with a
sentinel as the model's last message and everything after the sentinel is the environment's part (minus the
end-of-turn token when the model already generated it).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from ._policies import Chat, Policy
from ._types import TokenTrace

_SENTINEL = "\u2063<<openenv-harness-turn-end>>\u2063"
_lock = threading.Lock()  # one generate at a time per process: torch on 2 cores gains nothing from two


class HFPolicy(Policy):
    """A local transformers causal LM.

    Args:
        model_path: Folder or hub id (see :func:`openenv_harness.rollout.resolve_model_path`).
        temperature: Default temperature (0 = greedy).
        top_p: Nucleus sampling.
        max_new_tokens: Default generation budget per turn.
        seed: Sampling seed (torch generator reseeded per call, so runs repeat).
        batch_size: Chats generated together.
        model: An already-loaded model (e.g. the one a learner trains); ``tokenizer`` must come with it.
        tokenizer: Its tokenizer.
        description: Extra fields for :meth:`describe` (e.g. which training step an in-memory model is at).
    """

    name = "hf"
    can_trace = True

    def __init__(
        self,
        model_path: str | None = None,
        *,
        temperature: float = 0.0,
        top_p: float = 1.0,
        max_new_tokens: int = 48,
        seed: int = 0,
        batch_size: int = 16,
        model: Any = None,
        tokenizer: Any = None,
        description: dict[str, Any] | None = None,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if model is None:
            if model_path is None:
                raise ValueError("HFPolicy needs model_path or model")
            tokenizer = AutoTokenizer.from_pretrained(model_path)
            model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
            model.eval()
        elif tokenizer is None:
            raise ValueError("HFPolicy(model=...) needs its tokenizer too")
        self.model, self.tokenizer = model, tokenizer
        self.model_path = model_path
        self.description = dict(description or {})
        self.temperature, self.top_p, self.max_new_tokens = temperature, top_p, max_new_tokens
        self.seed, self.batch_size = seed, max(1, batch_size)
        self._calls = 0
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
        ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        ids.add(self.tokenizer.eos_token_id)
        self.stop_ids = {i for i in ids if i is not None}

    def describe(self) -> dict[str, Any]:
        """Model path and sampling parameters."""
        return {
            "name": self.name,
            "model": self.model_path,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_new_tokens": self.max_new_tokens,
            "seed": self.seed,
            **self.description,
        }

    # -- text -------------------------------------------------------------------------------------------

    def generate(
        self, chats: list[Chat], *, temperature: float | None = None, max_new_tokens: int | None = None
    ) -> list[str]:
        """Batched chat-templated generation; greedy at temperature 0."""
        prompts = [self._ids(self._template(c, generation_prompt=True)) for c in chats]
        outs = self._generate_ids(prompts, temperature, max_new_tokens)
        return [self._decode(o) for o in outs]

    # -- token traces -----------------------------------------------------------------------------------

    async def agenerate(
        self,
        chats: list[Chat],
        *,
        temperature: float | None = None,
        max_new_tokens: int | None = None,
        traces: list[TokenTrace] | None = None,
    ) -> list[str]:
        """Async generation; with ``traces``, each chat's tokens are recorded in its trace."""
        if traces is None:
            return await super().agenerate(chats, temperature=temperature, max_new_tokens=max_new_tokens)
        return await asyncio.to_thread(self.generate_traced, chats, traces, temperature, max_new_tokens)

    def generate_traced(
        self,
        chats: list[Chat],
        traces: list[TokenTrace],
        temperature: float | None = None,
        max_new_tokens: int | None = None,
    ) -> list[str]:
        """Extend each trace with the env's new messages (mask 0), generate, append the reply (mask 1).

        Each chat must be the same conversation its trace has followed so far, plus the env's new messages.
        """
        inputs = [self._catch_up(c, t) for c, t in zip(chats, traces, strict=True)]
        outs = self._generate_ids(inputs, temperature, max_new_tokens)
        texts = []
        for chat, trace, out in zip(chats, traces, outs, strict=True):
            trace.add(out, model=True)
            trace.turns += 1
            trace.messages_seen = len(chat) + 1  # the engine appends this reply to the chat
            texts.append(self._decode(out))
        return texts

    def _catch_up(self, chat: Chat, trace: TokenTrace) -> list[int]:
        if not trace.prompt_ids:
            trace.prompt_ids = self._ids(self._template(chat, generation_prompt=True))
            trace.messages_seen = len(chat)
            return list(trace.prompt_ids)
        new = chat[trace.messages_seen :]
        if new:
            trace.add(self._ids(self.env_text(chat[: trace.messages_seen], new, trace)), model=False)
        trace.messages_seen = len(chat)
        return trace.prompt_ids + trace.completion_ids

    def env_text(self, before: Chat, new: Chat, trace: TokenTrace) -> str:
        """The template text between the model's last reply and its next generation (see the module doc)."""
        if not before or before[-1]["role"] != "assistant":
            raise ValueError("a traced chat must end with the model's reply before the env's new messages")
        marked = [*before[:-1], {"role": "assistant", "content": _SENTINEL}, *new]
        text = self._template(marked, generation_prompt=True)
        after = text[text.index(_SENTINEL) + len(_SENTINEL) :]
        last = trace.completion_ids[-1] if trace.completion_ids else None
        if last in self.stop_ids:
            end = self.tokenizer.decode([last])
            if after.startswith(end):
                after = after[len(end) :]  # the model already closed its turn
        return after

    # -- plumbing ---------------------------------------------------------------------------------------

    def _template(self, chat: Chat, generation_prompt: bool) -> str:
        return str(
            self.tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=generation_prompt)
        )

    def _ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _decode(self, ids: list[int]) -> str:
        return str(self.tokenizer.decode(ids, skip_special_tokens=True)).strip()

    def _generate_ids(
        self, prompts: list[list[int]], temperature: float | None, max_new_tokens: int | None
    ) -> list[list[int]]:
        """New token ids per prompt, cut after the first stop token (which is kept)."""
        import torch

        temp = self.temperature if temperature is None else temperature
        budget = self.max_new_tokens if max_new_tokens is None else max_new_tokens
        pad = self.tokenizer.pad_token_id
        out: list[list[int]] = []
        with _lock:
            was_training = self.model.training
            self.model.eval()
            try:
                for i in range(0, len(prompts), self.batch_size):
                    batch = prompts[i : i + self.batch_size]
                    width = max(len(p) for p in batch)
                    # Left padding: generation continues from the right edge of every row.
                    ids = torch.tensor([[pad] * (width - len(p)) + p for p in batch])
                    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in batch])
                    kwargs: dict[str, Any] = {"max_new_tokens": budget, "pad_token_id": pad}
                    if temp > 0:
                        torch.manual_seed(self.seed + self._calls)  # runs repeat; calls differ
                        kwargs.update(do_sample=True, temperature=temp, top_p=self.top_p)
                    else:
                        kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
                    self._calls += 1
                    with torch.no_grad():
                        gen = self.model.generate(input_ids=ids, attention_mask=mask, **kwargs)
                    for row in gen[:, width:].tolist():
                        out.append(self._cut(row))
            finally:
                if was_training:
                    self.model.train()
        return out

    def _cut(self, row: list[int]) -> list[int]:
        for j, t in enumerate(row):
            if t in self.stop_ids:
                return row[: j + 1]
        return row

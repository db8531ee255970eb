"""Per-step credit for multi-turn GRPO: each turn's tokens get the group-normalised return from that turn on.

With ``learner.credit=episode`` (the default) TRL gives every token of an episode the same advantage, the
episode's return normalised within its group. With ``learner.credit=per_step`` the advantage varies by turn:
``A_t = (R_t - mean_g R_0) / (std_g R_0 + eps)`` where ``R_t`` is the sum of the per-step credits from turn
``t`` to the end, the credits are the env's own (``metadata.step_credits`` of a trajectory rubric, e.g.
wordle's discounted solve credit), else each step's reward, and the baseline is the group's mean return.
Turns that came before the reward was earned still share it; turns after it do not. Errored episodes get 0.

TRL supports per-token advantages of shape ``(B, T)`` for subclasses (``GRPOTrainer._compute_loss``
unsqueezes only 1-D advantages), so :func:`per_step_trainer` overrides nothing but where the advantages come
from; the loss is TRL's.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from ..rollout import Episode

_EPS = 1e-4  # TRL's own epsilon in the group normalisation


def step_credits(ep: Episode) -> list[float]:
    """One credit per turn: the env's ``step_credits`` when it gave one per turn, else each turn's reward."""
    last = ep.turns[-1].step_credits if ep.turns else None
    if last is not None and len(last) == len(ep.turns):
        return list(last)
    return [float(t.reward or 0.0) for t in ep.turns]


def returns_to_go(credits: list[float]) -> list[float]:
    """``R_t = sum(credits[t:])``."""
    out, acc = [0.0] * len(credits), 0.0
    for t in range(len(credits) - 1, -1, -1):
        acc += credits[t]
        out[t] = acc
    return out


def turn_advantages(episodes: list[Episode], group_size: int) -> list[list[float]]:
    """Per-turn advantages of each episode (empty for errored ones), normalised within groups."""
    out: list[list[float]] = []
    for start in range(0, len(episodes), group_size):
        group = episodes[start : start + group_size]
        rtg = [returns_to_go(step_credits(e)) if e.error is None else [] for e in group]
        totals = [r[0] if r else 0.0 for r, e in zip(rtg, group, strict=True) if e.error is None]
        mean = statistics.fmean(totals) if totals else 0.0
        std = statistics.pstdev(totals) if len(totals) > 1 else 0.0
        for r, e in zip(rtg, group, strict=True):
            out.append([] if e.error is not None else [(x - mean) / (std + _EPS) for x in r])
    return out


def token_advantages(episodes: list[Episode], group_size: int, width: int) -> list[list[float]]:
    """``(B, width)`` advantages: each completion token gets its turn's advantage (padding and errors 0)."""
    rows = []
    for ep, adv in zip(episodes, turn_advantages(episodes, group_size), strict=True):
        row = [0.0] * width
        if ep.trace is not None and adv:
            for j, turn in enumerate(ep.trace.turn_of[:width]):
                row[j] = adv[min(turn, len(adv) - 1)]
        rows.append(row)
    return rows


def per_step_trainer(base: type, last_batch: Callable[[], list[Episode]], group_size: int) -> type:
    """A subclass of TRL's ``GRPOTrainer`` whose advantages are :func:`token_advantages` of the last batch.

    Args:
        base: ``trl.GRPOTrainer``.
        last_batch: Returns the episodes of the batch the rollout function produced last, in batch order.
        group_size: Generations per group.
    """
    import torch

    class PerStepGRPOTrainer(base):  # type: ignore[misc, valid-type]
        def _generate_and_score_completions(self, inputs: Any) -> dict[str, Any]:
            out: dict[str, Any] = super()._generate_and_score_completions(inputs)
            episodes = last_batch()
            width = int(out["completion_ids"].shape[1])
            if len(episodes) != int(out["completion_ids"].shape[0]):
                raise RuntimeError("per-step credit: the batch does not match the last rollout")
            adv = token_advantages(episodes, group_size, width)
            out["advantages"] = torch.tensor(adv, dtype=torch.float32, device=out["completion_ids"].device)
            return out

    return PerStepGRPOTrainer

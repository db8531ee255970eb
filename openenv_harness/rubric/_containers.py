"""Containers: weighted sum, sequential / gate (fail-fast), and named dict / list holders.

Empty containers are allowed and score ``0.0`` (an empty sum; nothing passed). Children of a container called
with ``acall`` run concurrently, except in :class:`Sequential` whose point is to stop early.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._base import Rubric
from ._config import RubricError
from ._result import combine


class WeightedSum(Rubric):
    """``sum(weight[name] * child(action, obs))`` over named children, optionally divided by the weight sum.

    The reduction is :func:`~openenv_harness.rubric.combine` (sorted names, so it is reproducible offline).
    When a ``WeightedSum`` is an env's root rubric its children are the reward components and the env's
    ``reward_config.weights`` override ``config.weights`` at each :meth:`score`.

    Args:
        children: Child rubrics by name (names become component names).
        config: A ``WeightedSum.Config``.
        **overrides: ``weights`` (by child name; missing children weigh 1.0), ``normalize``.
    """

    @dataclass
    class Config:
        """WeightedSum parameters.

        Attributes:
            weights: Weight by child name (>= 0); children without one weigh 1.0.
            normalize: Divide by the sum of the weights (a zero sum gives 0.0).
        """

        weights: dict[str, float] = field(default_factory=dict)
        normalize: bool = False

        def __post_init__(self) -> None:
            for name, w in self.weights.items():
                if not math.isfinite(w) or w < 0:
                    raise ValueError(f"weights.{name}: must be a finite number >= 0, got {w}")

    config: Config

    def __init__(
        self, children: Mapping[str, Rubric] | None = None, config: Config | None = None, **overrides: Any
    ) -> None:
        super().__init__(config, **overrides)
        for name, child in (children or {}).items():
            self.add_rubric(name, child)
        unknown = sorted(set(self.config.weights) - set(self._children))
        if unknown:
            raise RubricError(
                f"WeightedSum: weights for unknown children {unknown}; children: {list(self._children)}"
            )

    def reward_components(self) -> dict[str, Rubric]:
        """The children: each is a weighted reward component."""
        return dict(self._children)

    def default_weights(self) -> dict[str, float]:
        """``config.weights`` with 1.0 for children it does not name."""
        return {name: float(self.config.weights.get(name, 1.0)) for name in self._children}

    @property
    def normalizes(self) -> bool:
        """``config.normalize``."""
        return self.config.normalize

    def forward(self, action: Any, observation: Any) -> float:
        """Weighted sum of the children's scores."""
        values = {name: child(action, observation) for name, child in self._children.items()}
        return combine(values, self.default_weights(), self.config.normalize) or 0.0

    async def aforward(self, action: Any, observation: Any) -> float:
        """Weighted sum with the children evaluated concurrently."""
        outs = await asyncio.gather(*(c.acall(action, observation) for c in self._children.values()))
        return (
            combine(
                dict(zip(self._children, outs, strict=True)), self.default_weights(), self.config.normalize
            )
            or 0.0
        )


class Sequential(Rubric):
    """Fail-fast chain: every child but the last is a check that must reach ``threshold``.

    Children run in order; the first check below ``threshold`` stops the chain (later children are not run) and
    the result is ``fail_score``. Otherwise the result is the last child's score. Children are named ``0``,
    ``1``, ... (or by the mapping's keys).

    Args:
        children: Rubrics in order, or a mapping name -> rubric (order kept).
        config: A ``Sequential.Config``.
        **overrides: ``threshold``, ``fail_score``.
    """

    @dataclass
    class Config:
        """Sequential parameters.

        Attributes:
            threshold: A check passes when its score is >= threshold.
            fail_score: The result when a check fails.
        """

        threshold: float = 1.0
        fail_score: float = 0.0

    config: Config

    def __init__(
        self,
        children: Iterable[Rubric] | Mapping[str, Rubric] | None = None,
        config: Config | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(config, **overrides)
        items = children.items() if isinstance(children, Mapping) else enumerate(children or ())
        for name, child in items:
            self.add_rubric(str(name), child)

    def forward(self, action: Any, observation: Any) -> float:
        """Run the checks in order, stop at the first failure."""
        children = list(self._children.values())
        for check in children[:-1]:
            if check(action, observation) < self.config.threshold:
                return self.config.fail_score
        return children[-1](action, observation) if children else 0.0

    async def aforward(self, action: Any, observation: Any) -> float:
        """Async variant; still sequential (later children must not run after a failure)."""
        children = list(self._children.values())
        for check in children[:-1]:
            if await check.acall(action, observation) < self.config.threshold:
                return self.config.fail_score
        return await children[-1].acall(action, observation) if children else 0.0


class Gate(Rubric):
    """The wrapped rubric's score if it reaches ``threshold``, else ``fail_score``.

    Args:
        rubric: The rubric to gate (registered as child ``rubric``).
        config: A ``Gate.Config``.
        **overrides: ``threshold``, ``fail_score``.
    """

    @dataclass
    class Config:
        """Gate parameters.

        Attributes:
            threshold: Scores below it are replaced by ``fail_score``.
            fail_score: The result below the threshold.
        """

        threshold: float = 1.0
        fail_score: float = 0.0

    config: Config

    def __init__(self, rubric: Rubric, config: Config | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.rubric = rubric

    def forward(self, action: Any, observation: Any) -> float:
        """Gate the child's score."""
        value = self.rubric(action, observation)
        return value if value >= self.config.threshold else self.config.fail_score

    async def aforward(self, action: Any, observation: Any) -> float:
        """Async variant."""
        value = await self.rubric.acall(action, observation)
        return value if value >= self.config.threshold else self.config.fail_score


class _Holder(Rubric):
    def forward(self, action: Any, observation: Any) -> float:
        raise RubricError(
            f"{type(self).__name__} only holds rubrics and has no score; wrap it in WeightedSum or Sequential"
        )


class RubricDict(_Holder):
    """A named holder of rubrics (like ``nn.ModuleDict``): registers them, does not score.

    Args:
        rubrics: Initial rubrics by name.
    """

    def __init__(self, rubrics: Mapping[str, Rubric] | None = None) -> None:
        super().__init__()
        for name, rubric in (rubrics or {}).items():
            self.add_rubric(name, rubric)

    def __getitem__(self, name: str) -> Rubric:
        return self._children[name]

    def __setitem__(self, name: str, rubric: Rubric) -> None:
        self.add_rubric(name, rubric) if name not in self._children else setattr(self, name, rubric)

    def __delitem__(self, name: str) -> None:
        delattr(self, name)

    def __contains__(self, name: object) -> bool:
        return name in self._children

    def __iter__(self) -> Iterator[str]:
        return iter(self._children)

    def __len__(self) -> int:
        return len(self._children)

    def keys(self) -> list[str]:
        """Names in insertion order."""
        return list(self._children)

    def values(self) -> list[Rubric]:
        """Rubrics in insertion order."""
        return list(self._children.values())

    def items(self) -> list[tuple[str, Rubric]]:
        """``(name, rubric)`` pairs in insertion order."""
        return list(self._children.items())


class RubricList(_Holder):
    """An indexed holder of rubrics (like ``nn.ModuleList``); children are named ``0``, ``1``, ...

    Args:
        rubrics: Initial rubrics.
    """

    def __init__(self, rubrics: Iterable[Rubric] | None = None) -> None:
        super().__init__()
        for rubric in rubrics or ():
            self.append(rubric)

    def append(self, rubric: Rubric) -> None:
        """Add a rubric at the end."""
        self.add_rubric(str(len(self._children)), rubric)

    def __getitem__(self, index: int) -> Rubric:
        return list(self._children.values())[index]

    def __iter__(self) -> Iterator[Rubric]:
        return iter(list(self._children.values()))

    def __len__(self) -> int:
        return len(self._children)

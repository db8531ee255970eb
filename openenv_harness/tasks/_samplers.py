"""Samplers: which (split, index, seed) the harness asks an environment to reset with next.

Samplers only choose rows; environments bind them at reset (``reset(seed=..., split=..., index=...)``). A
GRPO group reuses one :class:`Draw` for all its members. Every sampler is resumable: ``state_dict()`` is
plain JSON and ``load_state_dict()`` continues exactly where the saved one stopped.

* :class:`SequentialSampler` (eval): rows ``0..n-1`` once, in order; episode seed ``seed + index``.
* :class:`UniformSampler` (train): a fresh seeded permutation each epoch, rows without replacement.
* :class:`CurriculumSampler` (train): weights rows by how often their groups gave learning signal (reward
  variance > 0); unseen rows are explored first, rows that never give signal (always solved or never
  solved) fade to a floor weight but are retried now and then.

Episode seeds are derived with sha256 from (sampler seed, epoch, position), so they do not depend on Python's
``hash`` or on the number of rows.
"""

from __future__ import annotations

import hashlib
import random
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Draw:
    """One task choice: reset the environment with ``split``, ``index`` and ``seed``."""

    split: str
    index: int
    seed: int
    epoch: int = 0

    def reset_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``Environment.reset``."""
        return {"seed": self.seed, "split": self.split, "index": self.index}


def derive_seed(*parts: object) -> int:
    """A 31-bit seed from the given parts (sha256; stable across Python versions)."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


class Sampler:
    """Base class: an endless (or, for sequential, finite) stream of :class:`Draw`.

    Args:
        num_rows: Rows in the split.
        split: Split name put on every draw.
        seed: Sampler seed.
    """

    kind = "base"

    def __init__(self, num_rows: int, split: str, seed: int = 0) -> None:
        if num_rows <= 0:
            raise ValueError(f"split {split!r} has no rows to sample")
        self.num_rows = num_rows
        self.split = split
        self.seed = seed

    def __iter__(self) -> Iterator[Draw]:
        return self

    def __next__(self) -> Draw:
        raise NotImplementedError

    def take(self, k: int) -> list[Draw]:
        """The next ``k`` draws (fewer if the sampler runs out)."""
        out = []
        for _ in range(k):
            try:
                out.append(next(self))
            except StopIteration:
                break
        return out

    def state_dict(self) -> dict[str, Any]:
        """JSON-able state (includes the constructor arguments, checked on load)."""
        return {"kind": self.kind, "num_rows": self.num_rows, "split": self.split, "seed": self.seed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict` of a sampler built with the same arguments."""
        mine = Sampler.state_dict(self)
        theirs = {k: state.get(k) for k in mine}
        if theirs != mine:
            raise ValueError(f"sampler state was saved for {theirs}, this sampler is {mine}")


class SequentialSampler(Sampler):
    """Every row once, in order (eval). Stops after ``limit`` rows (default: all)."""

    kind = "sequential"

    def __init__(self, num_rows: int, split: str, seed: int = 0, limit: int | None = None) -> None:
        super().__init__(num_rows, split, seed)
        self.limit = num_rows if limit is None else min(limit, num_rows)
        self.position = 0

    def __len__(self) -> int:
        return self.limit

    def __next__(self) -> Draw:
        if self.position >= self.limit:
            raise StopIteration
        i = self.position
        self.position += 1
        return Draw(self.split, i, self.seed + i)

    def state_dict(self) -> dict[str, Any]:
        """See :meth:`Sampler.state_dict`."""
        return {**super().state_dict(), "limit": self.limit, "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """See :meth:`Sampler.load_state_dict`."""
        super().load_state_dict(state)
        self.limit, self.position = int(state["limit"]), int(state["position"])


class UniformSampler(Sampler):
    """Uniform without replacement within an epoch; a new seeded permutation per epoch (train)."""

    kind = "uniform"

    def __init__(self, num_rows: int, split: str, seed: int = 0) -> None:
        super().__init__(num_rows, split, seed)
        self.epoch = 0
        self.position = 0
        self._order = self._permutation(0)

    def _permutation(self, epoch: int) -> list[int]:
        order = list(range(self.num_rows))
        random.Random(derive_seed("uniform", self.seed, epoch)).shuffle(order)
        return order

    def __next__(self) -> Draw:
        if self.position >= self.num_rows:
            self.epoch += 1
            self.position = 0
            self._order = self._permutation(self.epoch)
        i = self._order[self.position]
        seed = derive_seed("episode", self.seed, self.epoch, self.position)
        self.position += 1
        return Draw(self.split, i, seed, self.epoch)

    def state_dict(self) -> dict[str, Any]:
        """See :meth:`Sampler.state_dict`."""
        return {**super().state_dict(), "epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """See :meth:`Sampler.load_state_dict`."""
        super().load_state_dict(state)
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self._order = self._permutation(self.epoch)


@dataclass
class TaskStats:
    """Curriculum counters of one row."""

    groups: int = 0
    signal_groups: int = 0
    last_mean: float | None = None


class CurriculumSampler(Sampler):
    """Prefers rows whose GRPO groups gave learning signal (rewards not all equal).

    The weight of a row is the posterior mean of "a group on it has signal" under a Beta(``prior``, ``prior``)
    prior, ``(signal + prior) / (groups + 2 * prior)``, floored at ``min_weight``: unseen rows start at 0.5,
    rows with signal rise towards 1, rows that are always solved or always failed sink to the floor.

    Args:
        num_rows: Rows in the split.
        split: Split name.
        seed: Sampler seed.
        prior: Beta prior strength (pseudo-counts on each side).
        min_weight: Floor so no row is ever excluded for good.
    """

    kind = "curriculum"

    def __init__(
        self, num_rows: int, split: str, seed: int = 0, prior: float = 1.0, min_weight: float = 0.05
    ) -> None:
        super().__init__(num_rows, split, seed)
        if prior <= 0 or not 0 < min_weight <= 1:
            raise ValueError("prior must be > 0 and min_weight in (0, 1]")
        self.prior, self.min_weight = prior, min_weight
        self.stats = [TaskStats() for _ in range(num_rows)]
        self.draws = 0
        self._rng = random.Random(derive_seed("curriculum", seed))

    def weight(self, index: int) -> float:
        """Current sampling weight of row ``index``."""
        s = self.stats[index]
        return max(self.min_weight, (s.signal_groups + self.prior) / (s.groups + 2 * self.prior))

    def __next__(self) -> Draw:
        weights = [self.weight(i) for i in range(self.num_rows)]
        i = self._rng.choices(range(self.num_rows), weights=weights)[0]
        seed = derive_seed("episode", self.seed, self.draws)
        self.draws += 1
        return Draw(self.split, i, seed)

    def update(self, index: int, rewards: Sequence[float]) -> bool:
        """Record one finished group on row ``index``; returns whether it had learning signal."""
        if not rewards:
            raise ValueError("a group needs at least one reward")
        signal = len(rewards) > 1 and statistics.pvariance(rewards) > 0
        s = self.stats[index]
        s.groups += 1
        s.signal_groups += int(signal)
        s.last_mean = float(statistics.fmean(rewards))
        return signal

    def counters(self) -> dict[str, Any]:
        """Totals for logging: groups seen, groups with signal, zero-signal fraction, rows seen."""
        groups = sum(s.groups for s in self.stats)
        signal = sum(s.signal_groups for s in self.stats)
        return {
            "draws": self.draws,
            "groups": groups,
            "signal_groups": signal,
            "zero_signal_fraction": (groups - signal) / groups if groups else 0.0,
            "rows_seen": sum(1 for s in self.stats if s.groups),
            "rows_with_signal": sum(1 for s in self.stats if s.signal_groups),
        }

    def state_dict(self) -> dict[str, Any]:
        """See :meth:`Sampler.state_dict`; includes the counters and the RNG state."""
        version, internal, gauss = self._rng.getstate()
        return {
            **super().state_dict(),
            "prior": self.prior,
            "min_weight": self.min_weight,
            "draws": self.draws,
            "stats": [asdict(s) for s in self.stats],
            "rng": [version, list(internal), gauss],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """See :meth:`Sampler.load_state_dict`."""
        super().load_state_dict(state)
        self.prior, self.min_weight = float(state["prior"]), float(state["min_weight"])
        self.draws = int(state["draws"])
        self.stats = [TaskStats(**s) for s in state["stats"]]
        version, internal, gauss = state["rng"]
        self._rng.setstate((version, tuple(internal), gauss))


SAMPLERS: dict[str, type[Sampler]] = {
    "sequential": SequentialSampler,
    "uniform": UniformSampler,
    "curriculum": CurriculumSampler,
}


def make_sampler(kind: str, num_rows: int, split: str, seed: int = 0, **kwargs: Any) -> Sampler:
    """Build a sampler by name (``sequential``, ``uniform``, ``curriculum``).

    Raises:
        ValueError: naming the known kinds.
    """
    if kind not in SAMPLERS:
        raise ValueError(f"unknown sampler {kind!r}; choose one of {', '.join(SAMPLERS)}")
    return SAMPLERS[kind](num_rows, split, seed, **kwargs)


def sampler_for(cfg: Any, num_rows: int, evaluation: bool = False) -> Sampler:
    """The sampler a :class:`~openenv_harness.tasks.TasksetConfig` asks for.

    Training uses ``cfg.sampler`` over ``cfg.split``; evaluation always walks ``cfg.eval_split``
    sequentially (every row once, seeds ``cfg.seed + index``). ``cfg.limit`` keeps the first ``limit`` rows.

    Args:
        cfg: A ``TasksetConfig`` (or anything with its fields).
        num_rows: Rows in the split the sampler will draw from.
        evaluation: Build the eval sampler instead of the training one.
    """
    n = num_rows if cfg.limit is None else min(num_rows, int(cfg.limit))
    if evaluation:
        return SequentialSampler(n, cfg.eval_split, cfg.seed)
    return make_sampler(cfg.sampler, n, cfg.split, cfg.seed)

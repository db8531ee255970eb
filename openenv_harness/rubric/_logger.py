"""TensorBoard logging of rewards: total, every component and every weight, per environment.

Tags (``prefix`` defaults to ``reward``)::

    reward/<env>/total              mean reward of the batch (steps without a reward are left out)
    reward/<env>/component/<name>   mean raw score of each component (dotted names kept)
    reward/<env>/weight/<name>      mean weight in effect (moves with schedules / POST /config)
    reward/<env>/error_rate         fraction of steps with a failed component
    reward/<env>/config_version     newest config version seen
    schedule/<name>                 any scheduled values passed to ``log`` (e.g. ``weights.format``)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from ._result import RewardResult, as_result


class ScalarWriter(Protocol):
    """What the logger needs of a writer (``torch.utils.tensorboard.SummaryWriter`` fits)."""

    def add_scalar(self, tag: str, scalar_value: float, global_step: int | None = None) -> Any: ...  # noqa: D102


def _as_parts(item: Any) -> tuple[RewardResult, int | None]:
    """A RewardResult and the config version (when the item carries metadata)."""
    metadata = item if isinstance(item, Mapping) else getattr(item, "metadata", None)
    version = metadata.get("config_version") if isinstance(metadata, Mapping) else None
    return as_result(item), (int(version) if version is not None else None)


class RewardLogger:
    """Writes reward scalars to TensorBoard.

    Args:
        log_dir: Directory of the event files (ignored when ``writer`` is given).
        writer: An existing writer to share (e.g. the run's ``SummaryWriter``).
        prefix: First part of every reward tag.
    """

    def __init__(
        self, log_dir: str | Path | None = None, writer: ScalarWriter | None = None, prefix: str = "reward"
    ):
        if writer is None:
            if log_dir is None:
                raise ValueError("RewardLogger needs a log_dir or a writer")
            from torch.utils.tensorboard import SummaryWriter  # heavy: imported only when logging is used

            writer = SummaryWriter(log_dir=str(log_dir))
            self._owned = True
        else:
            self._owned = False
        self.writer = writer
        self.prefix = prefix

    def log(
        self, step: int, items: Iterable[Any], env: str = "env", schedule: Mapping[str, float] | None = None
    ) -> dict[str, float]:
        """Log one batch of scored steps of ``env``.

        Args:
            step: Global (training) step.
            items: RewardResults, observations (with ``reward`` and ``metadata``) or observation metadata.
            env: Environment name used in the tags.
            schedule: Scheduled values in effect at this step, logged under ``schedule/<name>``.

        Returns:
            The scalars written, by tag.
        """
        sums: dict[str, float] = defaultdict(float)
        counts: dict[str, int] = defaultdict(int)
        n = n_errors = 0
        version: int | None = None
        for item in items:
            result, v = _as_parts(item)
            n += 1
            n_errors += bool(result.errors)
            if v is not None:
                version = v if version is None else max(version, v)
            if result.reward is not None:
                sums["total"] += result.reward
                counts["total"] += 1
            for kind, values in (("component", result.components), ("weight", result.weights)):
                for name, value in values.items():
                    sums[f"{kind}/{name}"] += value
                    counts[f"{kind}/{name}"] += 1
        base = f"{self.prefix}/{env}"
        out = {f"{base}/{key}": sums[key] / counts[key] for key in sums}
        if n:
            out[f"{base}/error_rate"] = n_errors / n
        if version is not None:
            out[f"{base}/config_version"] = float(version)
        for name, value in (schedule or {}).items():
            out[f"schedule/{name}"] = float(value)
        for tag, value in out.items():
            self.writer.add_scalar(tag, value, step)
        return out

    def flush(self) -> None:
        """Flush pending events to disk."""
        flush = getattr(self.writer, "flush", None)
        if flush is not None:
            flush()

    def close(self) -> None:
        """Flush, and close the writer if this logger created it."""
        self.flush()
        if self._owned:
            self.writer.close()  # type: ignore[union-attr]

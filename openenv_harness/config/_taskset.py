"""The ``taskset`` group's schema: the tasksets package's own dataclass when it is installed.

``openenv_harness.tasks`` owns :class:`TasksetConfig`; importing it here keeps one definition. The fallback
below (same core fields) only exists so the config tree composes while that package is being built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

# ruff: noqa: UP045 - OmegaConf needs typing.Optional

try:
    from openenv_harness.tasks._config import TasksetConfig
except ImportError:  # pragma: no cover - only while the tasks package has no config yet

    @dataclass
    class TasksetConfig:  # type: ignore[no-redef]
        """A taskset reference (``hf://datasets/{repo}/{env_id}@{rev}`` or a local path) and its split.

        Attributes:
            ref: The reference; None means the env generates its own tasks.
            split: Split used for training rows.
            trust_remote_code: Allow installing a ``package`` runtime target.
        """

        ref: Optional[str] = None
        split: str = "train"
        trust_remote_code: bool = False


__all__ = ["TasksetConfig"]

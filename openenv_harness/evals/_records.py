"""The episode log of a bundle: append-only JSONL that survives SIGKILL and resumes without duplicates.

Each finished episode is one line, written and fsync'ed before the next result counts. An episode's identity
is ``(eval, task_id, sample)``; on resume, lines already present are kept, a torn last line (the process was
killed mid-write) is cut off, and only the missing keys are run. Results are computed from the records sorted
by key, so the order in which concurrent episodes finished never changes a bundle's results.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

EpisodeKey = tuple[str, str, int]


def episode_key(record: dict[str, Any]) -> EpisodeKey:
    """Identity of an episode record: ``(eval, task_id, sample)``."""
    return (str(record["eval"]), str(record["task_id"]), int(record["sample"]))


class EpisodeLog:
    """Append-only, crash-safe JSONL of episode records.

    Args:
        path: The ``episodes.jsonl`` file (created if missing).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._repair()
        self._keys = {episode_key(r) for r in self.read()}

    def _repair(self) -> None:
        """Cut a torn trailing line left by a kill mid-write, so appends start on a clean line."""
        if not self.path.exists():
            self.path.touch()
            return
        data = self.path.read_bytes()
        if not data or data.endswith(b"\n"):
            return
        cut = data.rfind(b"\n") + 1
        with self.path.open("r+b") as fh:
            fh.truncate(cut)

    def read(self) -> list[dict[str, Any]]:
        """All complete records, in file order."""
        return list(self._iter())

    def _iter(self) -> Iterator[dict[str, Any]]:
        with self.path.open() as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)

    def has(self, key: EpisodeKey) -> bool:
        """Whether an episode with this key is already recorded."""
        return key in self._keys

    def append(self, record: dict[str, Any]) -> bool:
        """Write one record durably; returns False (and writes nothing) if its key is already present."""
        key = episode_key(record)
        line = json.dumps(record, sort_keys=True, default=str) + "\n"
        with self._lock:
            if key in self._keys:
                return False
            with self.path.open("a") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            self._keys.add(key)
        return True

    def sorted_records(self) -> list[dict[str, Any]]:
        """Records sorted by key (the order results are computed in)."""
        return sorted(self.read(), key=episode_key)

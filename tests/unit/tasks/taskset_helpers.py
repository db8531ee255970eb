"""Helpers for taskset tests: write small tasksets and a local hub cache."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

BASE_ENTRY: dict[str, Any] = {
    "id": "toy",
    "title": "Toy",
    "description": "a toy taskset",
    "config_name": "default",
    "splits": ["train", "test"],
    "frameworks": {
        "openenv": {
            "min_version": "0.1.0",
            "package": "openenv-harness",
            "env": "echo",
            "hidden_columns": ["answer"],
            "resources": {"cpus": 1, "memory": "256m", "pids": 32, "timeout": 10},
            "secrets": [],
        },
        "verifiers": {"adapter": "some.module:Class"},
    },
}


def manifest(**entry_overrides: Any) -> dict[str, Any]:
    """A valid manifest with one environment; keyword arguments replace entry fields."""
    entry = copy.deepcopy(BASE_ENTRY)
    entry.update(entry_overrides)
    return {"spec_version": "hf-rl-env-0.1", "environments": [entry]}


def toy_rows(split: str, n: int) -> list[dict[str, Any]]:
    return [
        {
            "task_id": f"toy/{split}/{i}",
            "question": f"What is {i} + {i + 1}?",
            "answer": f"the answer is {2 * i + 1} exactly",
            "openenv_reset": {"question": f"What is {i} + {i + 1}?"},
        }
        for i in range(n)
    ]


def write_taskset(
    root: Path,
    man: dict[str, Any] | None = None,
    splits: dict[str, list[dict[str, Any]]] | None = None,
) -> Path:
    """Write environment.yaml, README configs block and data/{split}.parquet under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    man = manifest() if man is None else man
    splits = {"train": toy_rows("train", 10), "test": toy_rows("test", 4)} if splits is None else splits
    (root / "environment.yaml").write_text(yaml.safe_dump(man, sort_keys=False))
    (root / "data").mkdir(exist_ok=True)
    files = []
    for split, rows in splits.items():
        pq.write_table(pa.Table.from_pylist(rows), root / "data" / f"{split}.parquet")
        files.append({"split": split, "path": f"data/{split}.parquet"})
    readme = {"configs": [{"config_name": "default", "data_files": files}]}
    (root / "README.md").write_text("---\n" + yaml.safe_dump(readme, sort_keys=False) + "---\n# toy\n")
    return root


class HubCache:
    """A hand-made hub cache: ``datasets--ORG--NAME/{refs/main, snapshots/SHA/...}``."""

    def __init__(self, cache: Path) -> None:
        self.cache = cache

    def add_revision(self, repo_id: str, label: str, branch: str | None = "main", **taskset: Any) -> str:
        """Write a snapshot for ``repo_id``; returns its (fake but well-formed) commit sha."""
        sha = hashlib.sha1(f"{repo_id}@{label}".encode()).hexdigest()
        repo = self.cache / f"datasets--{repo_id.replace('/', '--')}"
        write_taskset(repo / "snapshots" / sha, **taskset)
        if branch:
            (repo / "refs").mkdir(parents=True, exist_ok=True)
            (repo / "refs" / branch).write_text(sha)
        return sha

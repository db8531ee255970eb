"""AutoEnv test helpers: the tasksets' rows, a writer of a taskset folder for any target, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROWS = {
    "train": [{"a": a, "b": b, "answer": a + b} for a, b in [(1, 2), (3, 4), (5, 6), (7, 8)]],
    "test": [{"a": a, "b": b, "answer": a + b} for a, b in [(2, 2), (9, 1), (4, 5)]],
}


def write_taskset(root: Path, env_id: str, openenv: dict[str, Any]) -> Path:
    """A taskset folder at ``root`` whose manifest runs ``env_id`` with the ``frameworks.openenv`` block given."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    for split, rows in ROWS.items():
        (root / "data" / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (root / "README.md").write_text(
        "---\nconfigs:\n- config_name: default\n  data_files:\n"
        "  - split: train\n    path: data/train.jsonl\n  - split: test\n    path: data/test.jsonl\n---\n"
    )
    manifest = {
        "spec_version": "hf-rl-env-0.1",
        "environments": [
            {
                "id": env_id,
                "config_name": "default",
                "splits": ["train", "test"],
                "frameworks": {"openenv": {"hidden_columns": ["answer"], **openenv}},
            }
        ],
    }
    (root / "environment.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return root


def cli(cwd: Path, env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m openenv_harness ARGS`` in ``cwd`` with environment ``env``."""
    return subprocess.run(
        [sys.executable, "-m", "openenv_harness", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    """The command's stdout; fails the test with its output's tail when it did not exit 0."""
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc.stdout

"""``python -m openenv_harness.tasks validate``: real processes, offline, exit codes and messages."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _run(*refs: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openenv_harness.tasks", "validate", *refs],  # refs may include --json
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
    )


def _taskset(root: Path, openenv: dict, splits: list[str], hidden_leak: bool = False) -> Path:
    (root / "data").mkdir(parents=True)
    rows = [{"q": f"q{i}", "answer": f"answer-number-{i}", "openenv_reset": {"q": f"q{i}"}} for i in range(3)]
    if hidden_leak:
        rows[1]["openenv_reset"] = {"q": "the answer is answer-number-1"}
    pq.write_table(pa.Table.from_pylist(rows), root / "data" / "train.parquet")
    man = {
        "spec_version": "hf-rl-env-0.1",
        "environments": [{"id": "toy", "splits": splits, "frameworks": {"openenv": openenv}}],
    }
    (root / "environment.yaml").write_text(yaml.safe_dump(man))
    return root


def test_shipped_tasksets_validate() -> None:
    proc = _run("tasksets/arith", "tasksets/humaneval")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "taskset tasksets/arith: OK" in proc.stdout and "coding.rows.test: 164" in proc.stdout


def test_broken_manifest_fails_naming_the_field(tmp_path: Path) -> None:
    root = _taskset(
        tmp_path / "ts",
        {"image": "img:1", "package": "openenv-harness", "hidden_columns": ["answer"]},
        ["train"],
    )
    proc = _run(str(root))
    assert proc.returncode == 1
    assert (
        f"{root}/environment.yaml: environment 'toy': frameworks.openenv: exactly one runtime target"
        in proc.stdout
    )


def test_missing_split_and_leak_fail(tmp_path: Path) -> None:
    missing = _taskset(tmp_path / "a", {"image": "img:1", "hidden_columns": ["answer"]}, ["train", "test"])
    leaky = _taskset(
        tmp_path / "b", {"image": "img:1", "hidden_columns": ["answer"]}, ["train"], hidden_leak=True
    )
    proc = _run(str(missing), str(leaky))
    assert proc.returncode == 1
    assert "environment 'toy': splits: split(s) test not found in the data" in proc.stdout
    assert "ground truth visible to the agent: train[1]" in proc.stdout
    assert "answer-number-1" not in proc.stdout  # the report names the column, never the value


def test_hf_reference_from_offline_cache_in_a_fresh_process(tmp_path: Path) -> None:
    home = tmp_path / "hf"
    sha = hashlib.sha1(b"v1").hexdigest()
    repo = home / "hub" / "datasets--org--toys"
    _taskset(repo / "snapshots" / sha, {"image": "img:1", "hidden_columns": ["answer"]}, ["train"])
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(sha)
    proc = _run("hf://datasets/org/toys/toy", env={"HF_HOME": str(home), "HF_HUB_CACHE": str(home / "hub")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"revision: {sha}" in proc.stdout
    proc = _run(
        "hf://datasets/org/toys/toy@" + "f" * 40,
        env={"HF_HOME": str(home), "HF_HUB_CACHE": str(home / "hub")},
    )
    assert proc.returncode == 1 and "HF_HUB_OFFLINE is set" in proc.stdout


def test_json_output(tmp_path: Path) -> None:
    import json

    proc = _run("--json", "tasksets/arith")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True and report["info"]["arith.rows.test"] == 100 and report["errors"] == []

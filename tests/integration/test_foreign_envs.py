"""Environments no one here wrote, served by OpenEnv's ``create_app`` with its default session cap (one), driven
by configuration alone: collect, eval (bundle + verify) and ``checks`` on ``env.url=URL``.

``column_env`` has an integer action and honours seeds; ``riddle_env`` serves questions from an iterator and
ignores seeds (both in ``tests/foreign_envs``, written against OpenEnv's public API).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("openenv", reason="the openenv test dependency is missing")

from openenv_harness.server import serve_in_thread  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def column_url() -> Iterator[str]:
    from tests.foreign_envs.column_app import app

    with serve_in_thread(app) as url:
        yield url


@pytest.fixture(scope="module")
def riddle_url() -> Iterator[str]:
    from tests.foreign_envs.riddle_app import app

    with serve_in_thread(app) as url:
        yield url


def _cli(*args: str, cwd: Path, module: str = "openenv_harness") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True, timeout=240
    )


def test_collect_on_a_foreign_env_with_an_integer_action(column_url: str, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    proc = _cli(
        f"env.url={column_url}",
        "policy=scripted",
        "learner=collect",
        "learner.max_steps=2",
        "learner.num_tasks=4",
        "logger=quiet",
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    # OpenEnv's default cap of one session: the pool shrinks instead of failing; no /config there
    assert "accept only 1 concurrent sessions" in proc.stdout + proc.stderr
    assert "serve no /config" in proc.stdout + proc.stderr
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "finished"
    env = record["environment"]
    assert env["foreign"] is True and env["seeds"] == "honoured"
    assert env["servers"][0]["name"] == "ColumnEnvironment" and env["servers"][0]["version"] == "1.0.0"
    episodes = [json.loads(line) for line in (run_dir / "episodes.jsonl").read_text().splitlines()]
    assert episodes and all(ep.get("error") is None for ep in episodes)
    first = episodes[0]["turns"][0]
    assert isinstance(first["action"]["column"], int)  # the generic adapter built a typed action


def test_eval_bundle_and_verify_on_a_seed_ignoring_env(riddle_url: str, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    proc = _cli(
        "mode=eval",
        f"env.url={riddle_url}",
        "policy=scripted",
        "eval.num_tasks=3",
        f"eval.out={bundle}",
        "+env.reset_kwargs.topic=legs",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "reproducible False" in proc.stdout
    assert "does not honour seeds (not_reproducible)" in proc.stdout + proc.stderr
    results = json.loads((bundle / "results.json").read_text())
    manifest = json.loads((bundle / "manifest.json").read_text())
    (name,) = results["evals"]
    assert name == "RiddleEnvironment"
    agg = results["evals"][name]
    assert agg["reproducible"] is False and agg["seeds"] == "not_reproducible"
    assert agg["error_rate"] == 0.0  # wrong answers, not errors
    env = manifest["environments"][name]
    assert env["foreign"] is True and env["name"] == "RiddleEnvironment" and env["version"] == "1.0.0"
    assert manifest["seeds"] == {name: "not_reproducible"}
    suite = (bundle / "suite.yaml").read_text()
    assert "topic: legs" in suite  # env.reset_kwargs apply in eval
    proc = _cli("mode=verify", f"eval.bundle={bundle}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert "this bundle is not reproducible" in proc.stdout


def test_checks_on_a_url(column_url: str, riddle_url: str, tmp_path: Path) -> None:
    out = _cli(column_url, cwd=tmp_path, module="openenv_harness.checks").stdout
    assert "PASS  seed_determinism" in out and "PASS  step_contract" in out
    out = _cli(riddle_url, cwd=tmp_path, module="openenv_harness.checks").stdout
    assert "FAIL  seed_determinism" in out

"""Kill-and-resume of a short GRPO run: SIGKILL after a checkpoint, same command again, same result."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from openenv_harness.harness.records import read_scalars

pytestmark = [pytest.mark.model, pytest.mark.slow]


def _cmd(run_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "openenv_harness",
        "env=arith",
        "schedule=arith",
        "logger=quiet",
        "learner.max_steps=2",
        "learner.group_size=2",
        "learner.num_tasks=4",
        "learner.checkpoint_every=1",
        "learner.curriculum=true",
        "learner.save_model=true",
        "policy.max_new_tokens=4",
        f"hydra.run.dir={run_dir}",
    ]


def _train_episodes(run_dir: Path) -> list[tuple[int, int, int, float | None]]:
    lines = (run_dir / "episodes.jsonl").read_text().splitlines()
    eps = [json.loads(x) for x in lines]
    return [(e["step"], e["group"], e["seed"], e["reward"]) for e in eps if e["phase"] == "train"]


def _adapter(run_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(run_dir / "model" / "adapter_model.safetensors"))


def test_sigkilled_run_resumes_to_the_same_result(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    done = subprocess.run(_cmd(whole), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]

    # The same run, SIGKILLed as soon as its first checkpoint is complete.
    proc = subprocess.Popen(
        _cmd(killed),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    marker = killed / "trainer" / "checkpoint-1" / "harness_state.json"
    deadline = time.monotonic() + 600
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "no checkpoint before the run ended"
    os.killpg(proc.pid, signal.SIGKILL)  # the run and its env servers, like an OOM kill of the job
    proc.wait(timeout=30)
    assert not (killed / "model").exists()

    again = subprocess.run(_cmd(killed), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resuming from" in again.stdout
    record = json.loads((killed / "run.json").read_text())
    assert record["status"] == "finished" and record["steps"] == 2

    # Same episodes (tasks, seeds, rewards) per step, each step exactly once.
    assert _train_episodes(killed) == _train_episodes(whole)
    a, b = read_scalars(whole / "tb"), read_scalars(killed / "tb")
    for tag in ("reward/mean", "learner/loss", "curriculum/arith/groups", "schedule/weights.format"):
        assert [s for s, _ in b[tag]] == [0, 1], tag  # no duplicate, no missing step
        assert b[tag] == a[tag], tag
    # The curriculum's record and the trained adapter are those of the uninterrupted run.
    state_a = json.loads(sorted((whole / "trainer").glob("checkpoint-2/harness_state.json"))[0].read_text())
    state_b = json.loads(sorted((killed / "trainer").glob("checkpoint-2/harness_state.json"))[0].read_text())
    assert state_b["planner"] == state_a["planner"]
    assert state_b["config_versions"] == state_a["config_versions"]
    wa, wb = _adapter(whole), _adapter(killed)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert (wa[k] == wb[k]).all(), k

"""Fault test: an env server SIGKILLed mid-training is restarted and the run finishes.

The harness runs as a real CLI process with local env servers; the test kills the server process while
episodes are in flight (echo with a per-step delay keeps every session busy for ~1.5 s per episode). Those
episodes are errors (``reward`` None, ``rollout/error_rate`` > 0), never wrong answers; the provider restarts
the server when a client or a config push next reaches it, sends it the config the dead one had, and later
steps run clean.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from openenv_harness.harness.records import read_scalars
from openenv_harness.runtime import LocalProcessProvider
from openenv_harness.spec import spec

pytestmark = pytest.mark.slow


def _servers(harness: subprocess.Popen[str]) -> list[psutil.Process]:
    """The env server processes the harness started (its children running ``openenv_harness.server``)."""
    out = []
    for child in psutil.Process(harness.pid).children():
        try:
            if "openenv_harness.server" in " ".join(child.cmdline()):
                out.append(child)
        except psutil.NoSuchProcess:
            continue
    return out


class _Run:
    """The harness CLI as a child process; its output goes to a file the test can watch."""

    def __init__(self, args: list[str], tmp_path: Path) -> None:
        self.run_dir = tmp_path / "run"
        self.log = tmp_path / "harness.log"
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "openenv_harness",
                    *args,
                    "logger=quiet",
                    f"hydra.run.dir={self.run_dir}",
                ],
                cwd=tmp_path,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def episodes(self) -> list[dict[str, Any]]:
        path = self.run_dir / "episodes.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]

    def kill_server_when(self, ready: Callable[[], bool], delay_s: float) -> int:
        """SIGKILL the env server ``delay_s`` after ``ready()`` first holds; returns its pid."""
        deadline = time.monotonic() + 240
        while not ready():
            if self.proc.poll() is not None:
                pytest.fail(f"the run ended before the kill: {self.output()[-3000:]}")
            if time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail("the run did not get to the kill point within 240 s")
            time.sleep(0.05)
        time.sleep(delay_s)
        (server,) = _servers(self.proc)
        os.kill(server.pid, signal.SIGKILL)
        return server.pid

    def finish(self, timeout_s: float) -> dict[str, Any]:
        """Wait for the run to exit 0; returns its run.json."""
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"the run did not finish after the kill: {self.output()[-3000:]}")
        assert self.proc.returncode == 0, self.output()[-3000:]
        record: dict[str, Any] = json.loads((self.run_dir / "run.json").read_text())
        return record


def _by_step(episodes: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for ep in episodes:
        out.setdefault(ep["step"], []).append(ep)
    return out


@pytest.mark.timeout(180)
def test_server_killed_mid_collect_is_restarted_and_in_flight_episodes_are_errors(tmp_path: Path) -> None:
    steps, per_step = 4, 4
    run = _Run(
        [
            "env=echo",
            "env.kwargs.max_steps=6",
            "+env.kwargs.step_delay_s=0.25",  # an episode takes ~1.5 s: a kill lands in the middle of one
            "policy=scripted",
            "learner=collect",
            f"learner.max_steps={steps}",
            "learner.group_size=2",
            "learner.groups_per_step=2",
            f"runtime.sessions={per_step}",
        ],
        tmp_path,
    )
    # Step 0's episodes are written: step 1's start at once and run ~1.5 s.
    killed = run.kill_server_when(lambda: len(run.episodes()) >= per_step, delay_s=0.5)
    record = run.finish(timeout_s=150)
    assert not psutil.pid_exists(killed) or psutil.Process(killed).status() == psutil.STATUS_ZOMBIE
    assert record["status"] == "finished" and record["steps"] == steps
    assert record["metrics"]["server_restarts"] == 1

    episodes = run.episodes()
    assert len(episodes) == steps * per_step
    assert {ep["env_version"] for ep in episodes} == {spec("echo").load().version}  # each episode names it
    by_step = _by_step(episodes)
    lost = [ep for ep in by_step[1] if ep["error"]]
    assert lost, "the kill landed mid-episode: step 1's episodes must be errors"
    for ep in lost:
        assert ep["reward"] is None and "CONNECTION_LOST" in ep["error"]
    # Step 0 ran before the kill; the last step runs on the restarted server with the schedule's weight
    # (conf/schedule/echo.yaml: 0.1 - 0.01 * step).
    for step in (0, steps - 1):
        assert all(ep["error"] is None and ep["reward"] is not None for ep in by_step[step])
    for ep in by_step[steps - 1]:
        assert ep["turns"][0]["weights"]["length"] == pytest.approx(0.1 - 0.01 * (steps - 1))

    rates = dict(read_scalars(run.run_dir / "tb")["rollout/error_rate"])
    assert rates[1] == len(lost) / per_step > 0
    assert rates[0] == 0 and rates[steps - 1] == 0


@pytest.mark.model
@pytest.mark.timeout(400)
def test_server_killed_mid_grpo_is_restarted_and_the_run_finishes(tmp_path: Path) -> None:
    run = _Run(
        [
            "env=echo",
            "env.kwargs.max_steps=1",
            "+env.kwargs.step_delay_s=4",  # step 1's episodes stay open ~4 s past their generation
            "learner=grpo",
            "learner.max_steps=3",  # step 2 reaches the server again: the restart
            "learner.group_size=2",
            "learner.groups_per_step=1",
            "learner.num_tasks=4",
            "policy.max_new_tokens=4",
        ],
        tmp_path,
    )
    # TRL prints a step's log line when its update is done; the next step's rollouts start right after.
    run.kill_server_when(lambda: "'loss'" in run.output(), delay_s=1.5)
    record = run.finish(timeout_s=360)
    assert record["status"] == "finished" and record["steps"] == 3
    assert record["metrics"]["server_restarts"] == 1
    by_step = _by_step(run.episodes())
    assert by_step[1] and all(ep["reward"] is None and "CONNECTION_LOST" in ep["error"] for ep in by_step[1])
    for step in (0, 2):
        assert all(ep["error"] is None and ep["reward"] is not None for ep in by_step[step])
    rates = dict(read_scalars(run.run_dir / "tb")["rollout/error_rate"])
    assert rates == {0: 0.0, 1: 1.0, 2: 0.0}


def _kill_and_wait(provider: LocalProcessProvider) -> None:
    os.killpg(provider.pids[0], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while provider.crashed() != [0]:
        assert time.monotonic() < deadline, "the killed server still looks alive"
        time.sleep(0.02)


def test_restarted_server_gets_the_config_its_predecessor_had() -> None:
    with LocalProcessProvider("echo", env_kwargs={"max_steps": 2}) as provider:
        provider.push_config({"weights": {"length": 0.5}})
        env = provider.client(connect_timeout_s=20)
        env.reset(seed=1)
        _kill_and_wait(provider)
        # The next reset reconnects through the provider, which restarts the server and replays the config.
        env.reset(seed=1)
        obs = env.step({"message": "abcd"})
        assert obs.reward == pytest.approx(0.5 * 4)  # not the env's default weight 0.1
        assert provider.restarts == 1
        # A push (a schedule's, at the start of a step) restarts a crashed server itself: no CONNECTION_LOST
        # from the control client's dead keep-alive connection.
        _kill_and_wait(provider)
        (snap,) = provider.push_config({"weights": {"length": 0.25}})
        assert snap["config"]["weights"] == {"length": 0.25} and provider.restarts == 2
        assert provider.config_sent == {"weights": {"length": 0.25}}
        env.close()

"""Errors stay errors: an env crash, a timeout or a ``None`` reward is never trained or counted as a zero."""

import itertools
from typing import Any

import pytest

from envs.arith import ArithEnvironment
from openenv_harness.config import compose_config
from openenv_harness.harness.grpo import EpisodeRollout, env_reward
from openenv_harness.rollout import (
    EnvRuntime,
    Episode,
    ScriptedPolicy,
    Task,
    TokenTrace,
    adapter_for,
    run_episodes,
    summarize,
)
from openenv_harness.spec import EnvError, ErrorCode, register


class FlakyArith(ArithEnvironment):
    """Arith whose infrastructure fails by seed: crash (seed % 4 == 1), no reward (== 2), refusal (== 3)."""

    name = "flaky_arith"

    def _kind(self) -> int:
        return (self.state.seed or 0) % 4

    def step(self, action: Any, timeout_s: float | None = None) -> Any:
        seed = self._kind()
        if seed % 4 == 1:
            raise EnvError(ErrorCode.INTERNAL_ERROR, "the env crashed")
        if seed % 4 == 3:
            raise EnvError(ErrorCode.VALIDATION_ERROR, "answer refused")
        obs = super().step(action, timeout_s)
        if seed % 4 == 2:
            obs.reward = None  # e.g. a judge outage: the env could not score a finished episode
        return obs


class FlakyInGroups(FlakyArith):
    """Fails by the order of steps across the process, so every GRPO group holds all four outcomes."""

    steps = itertools.count()

    def _kind(self) -> int:
        return next(self.steps) % 4


@pytest.fixture(autouse=True)
def flaky_envs():
    """Registered for these tests only: other tests walk every registered env (e.g. the Gymnasium checker)."""
    from openenv_harness.spec import _registry

    register("flaky_arith", f"{__name__}:FlakyArith")
    register("flaky_groups", f"{__name__}:FlakyInGroups")
    yield
    for name in ("flaky_arith", "flaky_groups"):
        _registry._registry.pop(name, None)


def _runtime() -> EnvRuntime:
    cfg = compose_config(["env=arith", "runtime=inprocess", "runtime.sessions=4"])
    return EnvRuntime(cfg.runtime, "flaky_arith", {}, cfg.server)


def test_crashes_and_missing_rewards_are_errors_and_refusals_are_wrong_answers():
    with _runtime() as rt:
        adapter = adapter_for("arith")
        eps = rt.run(run_episodes(rt, ScriptedPolicy(adapter), adapter, [Task(s) for s in range(8)]))
    by_kind = {s % 4: e for s, e in enumerate(eps)}
    assert by_kind[0].error is None and by_kind[0].reward is not None
    assert by_kind[1].reward is None and "INTERNAL_ERROR" in (by_kind[1].error or "")
    assert by_kind[2].reward is None and "reward is None" in (by_kind[2].error or "")
    assert (
        by_kind[3].error is None
        and by_kind[3].reward == 0.0
        and "VALIDATION_ERROR" in by_kind[3].invalid_action
    )
    s = summarize(eps, "correct")
    assert s["error_rate"] == 0.5 and s["invalid_rate"] == 0.5  # 4 errors of 8; 2 refusals of 4 scored


class _Tok:
    eos_token_id = 2

    def apply_chat_template(self, chat: Any, **_: Any) -> str:
        return "p"

    def __call__(self, text: str, **_: Any) -> dict[str, list[int]]:
        return {"input_ids": [7, 8]}


def test_errored_episodes_train_nothing_and_get_no_reward():
    ok = Episode(seed=0, reward=1.0, trace=TokenTrace([5], [9, 9, 3, 9], [1, 1, 0, 1], [0, 0, 1, 1]))
    crashed = Episode(seed=1, trace=TokenTrace([5], [9, 3], [1, 0], [0, 1]))
    crashed.fail("INTERNAL_ERROR: boom")
    never_spoke = Episode(seed=2, trace=TokenTrace())
    never_spoke.fail("reset: CONNECTION_LOST")
    roll = EpisodeRollout.__new__(EpisodeRollout)
    roll.tokenizer = _Tok()
    assert roll._tokens([], ok) == ([5], [9, 9, 3, 9], [1, 1, 0, 1])
    assert roll._tokens([], crashed) == ([5], [9, 3], [0, 0])  # every token masked out of the loss
    assert roll._tokens([], never_spoke) == ([7, 8], [2], [0])  # a placeholder that trains nothing
    # TRL leaves None out of the group baseline and gives it advantage 0 (never a zero reward).
    assert env_reward([], [], episode_reward=[1.0, None, None]) == [1.0, None, None]


@pytest.mark.model
@pytest.mark.slow
def test_grpo_run_with_a_flaky_env_finishes_and_counts_errors(tmp_path):
    import json

    from openenv_harness.harness import read_scalars, run_train

    cfg = compose_config(
        [
            "env=arith",
            "env.id=flaky_groups",
            "schedule=none",
            "runtime=inprocess",
            "logger=quiet",
            "learner.max_steps=2",
            "learner.group_size=4",
            "learner.groups_per_step=2",
            "learner.num_tasks=8",
            "policy.max_new_tokens=6",
            "experiment.seed=3",
        ]
    )
    import os

    os.chdir(tmp_path)
    metrics = run_train(cfg)
    run_dir = next((tmp_path / "outputs" / "manual").iterdir())
    eps = [json.loads(line) for line in (run_dir / "episodes.jsonl").read_text().splitlines()]
    errored = [e for e in eps if e["error"]]
    assert errored and all(e["reward"] is None for e in errored)
    assert all(e["reward"] is not None for e in eps if not e["error"])
    rates = [v for _, v in read_scalars(run_dir / "tb")["rollout/error_rate"]]
    assert rates == [0.5, 0.5]  # crashes and missing rewards; the refusals are scored wrong answers
    assert metrics["steps"] == 2

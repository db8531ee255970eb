"""The Gymnasium adapter: registered ids, gymnasium's own env checker, text actions, remote clients."""

from __future__ import annotations

import json

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env

import openenv_harness.gym as og
from openenv_harness.runtime import InProcessProvider
from openenv_harness.sandbox import bwrap_problem
from openenv_harness.spec import EnvError, registered


def test_every_installed_env_is_registered() -> None:
    for gid in ("openenv_harness/Echo-v0", "openenv_harness/Arith-v0", "openenv_harness/Coding-v0"):
        assert gid in gymnasium.registry
        assert gid in og.GYM_IDS
    assert og.gym_id("my_env") == "openenv_harness/MyEnv-v0"
    assert set(og.GYM_IDS) == {og.gym_id(i) for i in registered()}  # other engineers' envs too


@pytest.mark.parametrize("gid", og.GYM_IDS)
def test_gymnasium_env_checker_passes(gid: str) -> None:
    if "Coding" in gid and bwrap_problem() is not None:
        pytest.skip("bwrap unavailable")
    env = gymnasium.make(gid)
    try:
        gym_check_env(env.unwrapped)
    finally:
        env.close()


def test_arith_episode_with_raw_text_and_json_actions() -> None:
    env = gymnasium.make("openenv_harness/Arith-v0")
    obs, info = env.reset(seed=3)
    fields = json.loads(obs)
    assert fields["question"] == "What is 9 + 2?" and "reward" not in fields
    assert info["config_version"] == 0
    obs, reward, terminated, truncated, info = env.step("The answer is 11")
    assert (reward, terminated, truncated) == (pytest.approx(1.1), True, False)
    assert info["reward_components"] == {"correct": 1.0, "format": 0.5}
    env.reset(seed=3)
    assert env.step('{"answer": "11"}')[1] == pytest.approx(1.2)
    env.close()


def test_same_seed_same_observation_and_unseeded_resets_follow_np_random() -> None:
    env = og.OpenEnvGym("arith")
    a, _ = env.reset(seed=7)
    b, _ = env.reset(seed=7)
    assert a == b
    env.reset(seed=1)
    c, _ = env.reset()
    env.reset(seed=1)
    d, _ = env.reset()
    assert c == d


def test_invalid_actions_give_feedback_or_raise() -> None:
    env = og.OpenEnvGym("arith")
    first, _ = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step('{"answer": 5, "bogus": 1}')
    assert (obs, reward, terminated) == (first, 0.0, False)
    assert "invalid action" in info["invalid_action"]
    strict = og.OpenEnvGym("arith", invalid_action="raise")
    strict.reset(seed=0)
    with pytest.raises(EnvError):
        strict.step('{"bogus": 1}')
    with pytest.raises(EnvError, match="reset"):
        og.OpenEnvGym("arith").step("1")


def test_max_episode_steps_truncates() -> None:
    env = og.OpenEnvGym("echo", env_kwargs={"max_steps": 10}, max_episode_steps=2)
    env.reset(seed=0)
    assert env.step("a")[3] is False
    _, _, terminated, truncated, _ = env.step("b")
    assert (terminated, truncated) == (False, True)


def test_a_served_env_through_its_client() -> None:
    with InProcessProvider("arith") as provider:
        env = og.OpenEnvGym(provider.client())
        obs, _ = env.reset(seed=3)
        assert json.loads(obs)["question"] == "What is 9 + 2?"
        _, reward, terminated, _, info = env.step("11")
        assert reward == pytest.approx(1.2) and terminated and info["reward_weights"]["correct"] == 1.0
        env.close()


def test_a_served_env_over_ws() -> None:
    from openenv_harness.runtime import LocalProcessProvider

    with LocalProcessProvider("arith") as provider:
        env = og.OpenEnvGym(provider.client())
        gym_check_env(env, skip_render_check=True)
        obs, _ = env.reset(seed=3)
        _, reward, terminated, _, _ = env.step("11")
        assert json.loads(obs)["question"] == "What is 9 + 2?" and reward == pytest.approx(1.2) and terminated
        env.close()
        by_url = gymnasium.make("openenv_harness/Arith-v0", url=provider.urls[0])
        obs, _ = by_url.reset(seed=3)
        assert json.loads(obs)["question"] == "What is 9 + 2?"
        assert by_url.step('{"answer": "11"}')[1] == pytest.approx(1.2)
        by_url.close()


def test_env_kwargs_need_an_id() -> None:
    from envs.arith import ArithEnvironment

    with pytest.raises(ValueError, match="env_kwargs"):
        og.OpenEnvGym(ArithEnvironment(), env_kwargs={"difficulty": 2})
    with pytest.raises(ValueError, match="remote"):
        og.OpenEnvGym("arith", env_kwargs={"difficulty": 2}, url="http://127.0.0.1:9")
    with pytest.raises(ValueError, match="invalid_action"):
        og.OpenEnvGym("arith", invalid_action="ignore")  # type: ignore[arg-type]

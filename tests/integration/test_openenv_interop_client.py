"""OpenEnv's own client (the `openenv` package from PyPI, code no one here wrote) drives our echo server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from openenv_harness.server import create_app, serve_in_thread

generic_client = pytest.importorskip(
    "openenv.core.generic_client", reason="the openenv test dependency is missing"
)
GenericEnvClient = generic_client.GenericEnvClient


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve_in_thread(create_app("echo", env_kwargs={"max_steps": 3})) as base:
        yield base


def test_generic_client_reset_step_state(url: str) -> None:
    with GenericEnvClient(base_url=url).sync() as env:
        first = env.reset(seed=4, episode_id="oe-1")
        assert first.done is False and first.reward is None
        assert first.observation["greeting"]
        assert first.metadata["config_version"] == 0  # metadata is never dropped
        result = env.step({"message": "hello"})
        assert result.observation["message"] == "hello"
        assert result.reward == pytest.approx(0.5)
        assert result.metadata["reward_components"] == {"length": 5.0}
        state = env.state()
        assert state["episode_id"] == "oe-1" and state["step_count"] == 1 and state["seed"] == 4
        env.step({"message": "b"})
        assert env.step({"message": "c"}).done is True


def test_generic_client_same_seed_same_first_observation(url: str) -> None:
    firsts = []
    for _ in range(2):
        with GenericEnvClient(base_url=url).sync() as env:
            firsts.append(env.reset(seed=21).observation)
    assert firsts[0] == firsts[1]


def test_generic_client_sees_our_error_codes(url: str) -> None:
    with GenericEnvClient(base_url=url).sync() as env:
        with pytest.raises(RuntimeError, match="NOT_RESET"):
            env.step({"message": "too early"})  # documented deviation: OpenEnv's server would answer it
        env.reset()
        with pytest.raises(RuntimeError, match="VALIDATION_ERROR"):
            env.step({"mesage": "typo"})
        assert env.step({"message": "still fine"}).observation["message"] == "still fine"


def test_typed_openenv_action_with_metadata_is_accepted(url: str) -> None:
    from openenv.core.env_server.types import Action

    class EchoAction(Action):  # OpenEnv's Action base adds a `metadata` field, sent on every step
        message: str

    with GenericEnvClient(base_url=url).sync() as env:
        env.reset()
        assert env.step(EchoAction(message="typed")).observation["message"] == "typed"

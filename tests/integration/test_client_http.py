"""HTTPEnvClient against our server's stateful HTTP routes, on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from envs.echo import EchoObservation
from openenv_harness.client import HTTPEnvClient, client_for
from openenv_harness.runtime import LocalProcessProvider
from openenv_harness.spec import EnvError, ErrorCode


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with LocalProcessProvider("echo", env_kwargs={"max_steps": 3}, idle_timeout_s=60) as provider:
        yield provider.urls[0]


def test_http_episode(url: str) -> None:
    with client_for("echo", url, transport="http") as env:
        assert isinstance(env, HTTPEnvClient)
        with pytest.raises(EnvError) as info:
            env.step({"message": "early"})
        assert info.value.code == ErrorCode.NOT_RESET
        obs = env.reset(seed=4, episode_id="h1")
        assert isinstance(obs, EchoObservation) and obs.greeting
        sid = env.session_id
        assert sid
        assert env.step({"message": "abc"}).message == "abc"  # type: ignore[attr-defined]
        assert env.state().step_count == 1
        env.reset(seed=4)
        assert env.session_id == sid  # the same server session is reused across episodes
        env.step({"message": "a"})
        env.step({"message": "b"})
        assert env.step({"message": "c"}).done is True
        with pytest.raises(EnvError) as info:
            env.step({"message": "d"})
        assert info.value.code == ErrorCode.EPISODE_DONE


def test_http_and_ws_agree_on_seeded_first_observation(url: str) -> None:
    with HTTPEnvClient(url) as h, client_for("echo", url) as w:
        assert h.reset(seed=9).model_extra["greeting"] == w.reset(seed=9).greeting  # type: ignore[index,attr-defined]


def test_http_errors_and_lost_session(url: str) -> None:
    with HTTPEnvClient(url, request_timeout_s=10) as env:
        env.reset()
        with pytest.raises(EnvError) as info:
            env.step({"message": "__crash__"})
        assert info.value.code == ErrorCode.ENV_ERROR
        with pytest.raises(EnvError) as info:
            env.step({"message": "sleep:1"}, timeout_s=0.1)
        assert info.value.code == ErrorCode.TIMEOUT
        env.session_id = "no-such-session"  # as after the reaper or a server restart
        with pytest.raises(EnvError) as info:
            env.step({"message": "x"})
        assert info.value.code == ErrorCode.SESSION_NOT_FOUND
        assert env.reset().done is False  # a reset opens a new session
        assert env.session_id not in (None, "no-such-session")
        assert env.metadata()["server"] == "openenv_harness"


def test_http_close_frees_the_server_session(url: str) -> None:
    env = HTTPEnvClient(url)
    env.reset()
    before = env.health()["sessions"]
    env.close()
    with HTTPEnvClient(url) as probe:
        assert probe.health()["sessions"] == before - 1

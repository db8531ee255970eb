"""EnvClient / AsyncEnvClient against our own server, started as a real process on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from envs.echo import EchoAction, EchoObservation
from openenv_harness.client import PLAIN, AsyncEnvClient, EnvClient, client_for
from openenv_harness.runtime import LocalProcessProvider
from openenv_harness.spec import EnvError, ErrorCode, GenericObservation

TOKEN = "s3cret-test-token"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with LocalProcessProvider("echo", env_kwargs={"max_steps": 50}, token=TOKEN) as provider:
        yield provider.urls[0]


def test_reset_step_state_typed(url: str) -> None:
    with client_for("echo", url) as env:
        obs = env.reset(seed=7, episode_id="ep-7")
        assert isinstance(obs, EchoObservation)
        assert env.protocol is not None and env.protocol.ids and env.protocol.timeout_s  # type: ignore[union-attr]
        assert obs.greeting and obs.reward is None and obs.done is False
        obs = env.step(EchoAction(message="hello"))
        assert obs.message == "hello"  # type: ignore[attr-defined]
        assert obs.metadata["reward_components"] == {"length": 5.0}
        assert obs.reward == pytest.approx(0.5)
        state = env.state()
        assert (state.episode_id, state.step_count) == ("ep-7", 1)


def test_generic_client_keeps_fields(url: str) -> None:
    with EnvClient(url) as env:
        obs = env.reset(seed=1)
        assert isinstance(obs, GenericObservation)
        assert env.step({"message": "abc"}).model_extra == {"message": "abc", "greeting": ""}


def test_same_seed_same_first_observation(url: str) -> None:
    with EnvClient(url) as a, EnvClient(url) as b:
        firsts_a = [a.reset(seed=s).model_dump() for s in range(8)]
        firsts_b = [b.reset(seed=s).model_dump() for s in range(8)]
    assert firsts_a == firsts_b
    assert len({f["greeting"] for f in firsts_a}) > 1  # the seed visibly matters


def test_errors_carry_server_codes(url: str) -> None:
    with EnvClient(url) as env:
        with pytest.raises(EnvError) as info:
            env.step({"message": "x"})
        assert info.value.code == ErrorCode.NOT_RESET  # refused before anything is sent
        env.reset()
        with pytest.raises(EnvError) as info:
            env.step({"not_a_field": 1})  # generic client: validated by the server
        assert info.value.code == ErrorCode.VALIDATION_ERROR
        assert "message" in info.value.message
        with pytest.raises(EnvError) as info:
            env.step({"message": "__crash__"})
        assert info.value.code == ErrorCode.ENV_ERROR
        with pytest.raises(EnvError) as info:
            env.reset(bogus=1)
        assert info.value.code == ErrorCode.VALIDATION_ERROR
        env.reset()
        assert env.step({"message": "still alive"}).model_extra["message"] == "still alive"  # type: ignore[index]


def test_client_side_validation_names_field(url: str) -> None:
    with client_for("echo", url) as env:
        env.reset()
        with pytest.raises(EnvError) as info:
            env.step({"mesage": "typo"})
        assert info.value.code == ErrorCode.VALIDATION_ERROR
        assert "mesage" in info.value.message or "message" in info.value.message


def test_episode_done(url: str) -> None:
    with client_for("echo", url) as env:
        env.reset()
        for _ in range(49):
            env.step({"message": "a"})
        assert env.step({"message": "z"}).done is True
        with pytest.raises(EnvError) as info:
            env.step({"message": "after"})
        assert info.value.code == ErrorCode.EPISODE_DONE


def test_late_reply_is_never_taken_for_the_next_answer(url: str) -> None:
    with client_for("echo", url, request_timeout_s=0.3) as env:
        env.reset(seed=1)
        env.step({"message": "first"})
        t0 = time.monotonic()
        with pytest.raises(EnvError) as info:
            env.step({"message": "sleep:2.0"})
        assert info.value.code == ErrorCode.TIMEOUT
        assert time.monotonic() - t0 < 1.5  # the client gave up at 0.3 s, not when the 2 s step ended
        time.sleep(2.0)  # the late reply is now waiting in the socket, ahead of the next answer
        obs = env.step({"message": "next"})
        assert obs.message == "next"  # type: ignore[attr-defined]
        assert env.discarded_replies == 1
        assert env.state().step_count == 3  # the slow step was applied server-side; its reply was dropped


def test_late_reply_without_ids_poisons_the_connection(url: str) -> None:
    """Forced plain protocol (as with an OpenEnv server): the connection is dropped instead."""
    with EnvClient(url, protocol=PLAIN, request_timeout_s=0.3) as env:
        env.reset(seed=1)
        with pytest.raises(EnvError) as info:
            env.step({"message": "sleep:0.6"})
        assert info.value.code == ErrorCode.TIMEOUT
        with pytest.raises(EnvError) as info:
            env.step({"message": "next"})
        assert info.value.code == ErrorCode.CONNECTION_LOST
        assert "reset" in info.value.message
        env.reset(seed=2)
        assert env.step({"message": "fresh"}).model_extra["message"] == "fresh"  # type: ignore[index]
        assert env.state().step_count == 1


def test_server_side_step_timeout(url: str) -> None:
    with EnvClient(url) as env:
        env.reset()
        t0 = time.monotonic()
        with pytest.raises(EnvError) as info:
            env.step({"message": "sleep:3"}, timeout_s=0.2)
        assert info.value.code == ErrorCode.TIMEOUT
        assert time.monotonic() - t0 < 2  # the server answered at 0.2 s, not when the 3 s step ended
        with pytest.raises(EnvError) as info:
            env.step({"message": "x"})
        assert info.value.code == ErrorCode.NOT_RESET  # the server abandoned the episode
        env.reset()
        assert env.step({"message": "ok"}, timeout_s=5).model_extra["message"] == "ok"  # type: ignore[index]


def test_control_surface_and_config(url: str) -> None:
    with EnvClient(url, token=TOKEN) as env:
        assert env.health()["status"] == "healthy"
        assert env.metadata()["name"] == "echo"
        assert "action" in env.schema()
        before = env.get_config()
        env.reset()
        snap = env.push_config({"weights": {"length": 2.0}})
        assert snap["config_version"] == before["config_version"] + 1
        # Not mid-episode: the running episode keeps its weights; the next reset picks the new ones.
        assert env.step({"message": "ab"}).reward == pytest.approx(2 * before["config"]["weights"]["length"])
        env.reset()
        obs = env.step({"message": "ab"})
        assert obs.reward == pytest.approx(4.0)
        assert obs.metadata["config_version"] == snap["config_version"]
        with pytest.raises(EnvError) as info:
            env.push_config({"weights": {"lenght": 1.0}})
        assert info.value.code == ErrorCode.CONFIG_INVALID
        env.push_config({"weights": {"length": before["config"]["weights"]["length"]}})
    with EnvClient(url) as anon, pytest.raises(EnvError) as info:
        anon.push_config({"weights": {"length": 1.0}})
    assert info.value.code == ErrorCode.UNAUTHORIZED


def test_closed_client_refuses(url: str) -> None:
    env = EnvClient(url)
    env.reset()
    env.close()
    env.close()  # idempotent
    with pytest.raises(EnvError) as info:
        env.reset()
    assert info.value.code == ErrorCode.CONNECTION_LOST


def test_many_concurrent_async_sessions_are_isolated(url: str) -> None:
    n_sessions, n_steps = 64, 5

    async def episode(i: int) -> tuple[str | None, list[str], int]:
        async with AsyncEnvClient(url, observation_type=EchoObservation) as env:
            await env.reset(seed=i, episode_id=f"ep-{i}")
            seen = []
            for j in range(n_steps):
                obs = await env.step({"message": f"s{i}-m{j}"})
                seen.append(obs.message)
                await asyncio.sleep(0)
            state = await env.state()
            return state.episode_id, seen, state.step_count

    async def main() -> list[tuple[str | None, list[str], int]]:
        return await asyncio.gather(*(episode(i) for i in range(n_sessions)))

    results = asyncio.run(main())
    for i, (episode_id, seen, count) in enumerate(results):
        assert episode_id == f"ep-{i}"
        assert seen == [f"s{i}-m{j}" for j in range(n_steps)]
        assert count == n_steps


def test_async_late_reply_and_errors(url: str) -> None:
    async def main() -> None:
        async with AsyncEnvClient(url, request_timeout_s=0.3) as env:
            with pytest.raises(EnvError) as info:
                await env.step({"message": "x"})
            assert info.value.code == ErrorCode.NOT_RESET
            await env.reset(seed=3)
            with pytest.raises(EnvError) as info:
                await env.step({"message": "sleep:0.8"})
            assert info.value.code == ErrorCode.TIMEOUT
            await asyncio.sleep(0.8)
            obs = await env.step({"message": "mine"})
            assert obs.model_extra == {"message": "mine", "greeting": ""}
            assert env.discarded_replies == 1
            assert (await env.health())["status"] == "healthy"

    asyncio.run(main())


def test_no_websocket_endpoint_fails_fast(url: str) -> None:
    """A URL whose /ws is not a WebSocket (here a sub-path of our server) is refused at once, not retried."""
    for client in (EnvClient(url + "/nowhere", connect_timeout_s=5), AsyncEnvClient(url + "/nowhere")):
        t0 = time.monotonic()
        with pytest.raises(EnvError) as info:
            if isinstance(client, EnvClient):
                client.reset()
            else:
                asyncio.run(client.reset())
        assert info.value.code == ErrorCode.UNSUPPORTED
        assert time.monotonic() - t0 < 2


def test_unreachable_server_is_connection_lost() -> None:
    with EnvClient("http://127.0.0.1:9", connect_timeout_s=0.3) as env, pytest.raises(EnvError) as info:
        env.reset()
    assert info.value.code == ErrorCode.CONNECTION_LOST
    assert "127.0.0.1:9" in info.value.message


def test_capacity_error_is_clear() -> None:
    with LocalProcessProvider("echo", max_sessions=1) as provider:
        first = provider.client()
        first.reset()
        with provider.client() as second, pytest.raises(EnvError) as info:
            second.reset()
        assert info.value.code == ErrorCode.CAPACITY

        async def async_second() -> None:
            async with provider.async_client() as env:
                await env.reset()

        with pytest.raises(EnvError) as info:
            asyncio.run(async_second())
        assert info.value.code == ErrorCode.CAPACITY
        first.close()
        deadline = time.monotonic() + 5
        with provider.client() as third:  # a slot frees once the first session is closed
            while True:
                try:
                    assert third.reset().done is False
                    break
                except EnvError as exc:
                    assert exc.code == ErrorCode.CAPACITY and time.monotonic() < deadline
                    time.sleep(0.05)

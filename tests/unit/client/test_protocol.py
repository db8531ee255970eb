from __future__ import annotations

import pytest

from envs.echo import EchoAction, EchoObservation
from openenv_harness.client import OURS, PLAIN, ServerProtocol, normalize_base_url
from openenv_harness.client._core import ClientCore
from openenv_harness.client._protocol import (
    action_data,
    decode,
    http_error,
    parse_observation,
    parse_state,
    reset_data,
    ws_url,
)
from openenv_harness.spec import EnvError, ErrorCode, GenericAction, State


def test_protocol_detection() -> None:
    assert ServerProtocol.from_metadata({"name": "echo"}) == PLAIN  # OpenEnv's /metadata
    assert ServerProtocol.from_metadata({"server": "other", "protocol": {"ids": True}}) == PLAIN
    ours = ServerProtocol.from_metadata(
        {"server": "openenv_harness", "protocol": {"ids": True, "timeout_s": True, "config": True}}
    )
    assert ours == OURS
    partial = ServerProtocol.from_metadata({"server": "openenv_harness", "protocol": {"ids": True}})
    assert partial.ids and not partial.timeout_s
    assert ServerProtocol.from_metadata([]) == PLAIN  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("ws://127.0.0.1:8000/ws", "http://127.0.0.1:8000"),
        ("wss://h.example/env/ws", "https://h.example/env"),
    ],
)
def test_normalize_base_url(raw: str, expected: str) -> None:
    assert normalize_base_url(raw) == expected


def test_ws_url_and_bad_url() -> None:
    assert ws_url("http://127.0.0.1:1/prefix") == "ws://127.0.0.1:1/prefix/ws"
    assert ws_url("https://h") == "wss://h/ws"
    with pytest.raises(ValueError, match="not a server URL"):
        normalize_base_url("127.0.0.1:8000")


def test_reset_data_drops_none() -> None:
    assert reset_data(None, None, {}) == {}
    assert reset_data(0, "e", {"split": "test"}) == {"seed": 0, "episode_id": "e", "split": "test"}


def test_action_data() -> None:
    assert action_data({"message": "hi"}, EchoAction) == {"message": "hi"}
    assert action_data(EchoAction(message="x"), EchoAction) == {"message": "x"}
    assert action_data({"anything": [1]}, GenericAction) == {"anything": [1]}
    with pytest.raises(EnvError) as info:
        action_data({"mesage": "typo"}, EchoAction)
    assert info.value.code == ErrorCode.VALIDATION_ERROR
    with pytest.raises(EnvError):
        action_data("not an action", EchoAction)  # type: ignore[arg-type]


def test_decode_and_parse() -> None:
    with pytest.raises(EnvError) as info:
        decode("{nope")
    assert info.value.code == ErrorCode.INVALID_JSON
    with pytest.raises(EnvError):
        decode("[1]")
    obs = parse_observation(
        {
            "type": "observation",
            "data": {"observation": {"message": "m", "extra": 1}, "reward": 1.0, "done": True},
        },
        EchoObservation,
    )
    assert (obs.message, obs.reward, obs.done, obs.metadata) == ("m", 1.0, True, {})
    with pytest.raises(EnvError) as info:
        parse_observation(
            {"type": "error", "data": {"code": "EPISODE_DONE", "message": "over"}}, EchoObservation
        )
    assert info.value.code == ErrorCode.EPISODE_DONE and info.value.message == "over"
    with pytest.raises(EnvError):
        parse_observation({"type": "state", "data": {}}, EchoObservation)
    assert parse_state({"type": "state", "data": {"episode_id": "e", "step_count": 2, "x": 1}}, State).x == 1  # type: ignore[attr-defined]


def test_http_error_mapping() -> None:
    assert http_error(409, {"code": "NOT_RESET", "message": "m"}, "step").code == ErrorCode.NOT_RESET
    assert (
        http_error(422, {"detail": {"code": "CONFIG_INVALID", "message": "m"}}, "x").code
        == ErrorCode.CONFIG_INVALID
    )
    assert http_error(401, "nope", "push_config").code == ErrorCode.UNAUTHORIZED
    assert http_error(418, "teapot", "x").code == ErrorCode.INTERNAL


def test_core_ids_and_stale_replies() -> None:
    core = ClientCore("http://h:1", None, request_timeout_s=3.0, reply_grace_s=2.0)
    core.on_connected(OURS)
    text, rid, wait = core.prepare({"type": "step", "data": {}}, None)
    assert rid == 1 and '"id":1' in text and wait == 3.0
    err, poisoned = core.on_timeout("step", rid, wait)
    assert err.code == ErrorCode.TIMEOUT and not poisoned and core.lost is None
    text, rid2, wait = core.prepare({"type": "step", "data": {}}, 1.5)
    assert rid2 == 2 and '"timeout_s":1.5' in text and wait == 3.5
    assert not core.accept({"type": "observation", "id": 1}, rid2)  # the late reply
    assert core.discarded == 1 and core.stale_ids == set()
    assert core.accept({"type": "observation", "id": 2}, rid2)
    assert core.accept({"type": "error"}, rid2)  # nothing stale pending: an id-less error is ours


def test_core_plain_timeout_poisons() -> None:
    core = ClientCore("http://h:1", None, request_timeout_s=3.0, reply_grace_s=2.0)
    core.on_connected(PLAIN)
    text, rid, wait = core.prepare({"type": "step", "data": {}}, 0.5)
    assert rid is None and "id" not in text and "timeout_s" not in text and wait == 0.5
    err, poisoned = core.on_timeout("step", rid, wait)
    assert poisoned and err.code == ErrorCode.TIMEOUT
    with pytest.raises(EnvError) as info:
        core.check_usable("step")
    assert info.value.code == ErrorCode.CONNECTION_LOST


def test_core_reconnect_url() -> None:
    urls = iter(["http://b:2", "http://c:3"])
    core = ClientCore("http://a:1", lambda: next(urls), 1.0, 1.0)
    assert core.next_url() == "http://a:1"  # the first connection uses the given URL
    core.on_connected(OURS)
    assert core.next_url() == "http://b:2"
    lost = core.on_lost("step", ConnectionResetError("reset by peer"))
    assert lost.code == ErrorCode.CONNECTION_LOST and "episode is lost" in lost.message

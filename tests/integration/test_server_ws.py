"""WS /ws of our server, driven with the raw `websockets` library against real uvicorn servers on loopback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from envs.echo import EchoEnvironment
from openenv_harness.server import create_app, serve_in_thread


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve_in_thread(create_app("echo", env_kwargs={"max_steps": 50}, max_frame_bytes=4096)) as base:
        yield base


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/ws"


def ask(ws, frame) -> dict:
    ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))
    return json.loads(ws.recv(timeout=10))


def test_reset_step_state_close(url: str) -> None:
    with connect(ws_url(url)) as ws:
        first = ask(ws, {"type": "reset", "data": {"seed": 3, "episode_id": "e3"}})
        assert first["type"] == "observation"
        data = first["data"]
        assert set(data) >= {"observation", "reward", "done", "metadata", "session_id"}
        assert data["observation"]["greeting"] and data["metadata"]["config_version"] == 0
        step = ask(ws, {"type": "step", "data": {"message": "hello"}})
        assert step["data"]["observation"]["message"] == "hello"
        assert step["data"]["metadata"]["reward_components"] == {"length": 5.0}
        state = ask(ws, {"type": "state"})
        assert state == {"type": "state", "data": {"episode_id": "e3", "step_count": 1, "seed": 3}}
        ws.send(json.dumps({"type": "close"}))
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=5)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1000


def test_ids_are_echoed_and_timeout_s_accepted(url: str) -> None:
    with connect(ws_url(url)) as ws:
        assert ask(ws, {"type": "reset", "data": {}, "id": 1})["id"] == 1
        assert ask(ws, {"type": "step", "data": {"message": "a"}, "id": "x-2", "timeout_s": 5})["id"] == "x-2"
        assert ask(ws, {"type": "state", "id": 3})["id"] == 3
        err = ask(ws, {"type": "bogus", "id": 4})
        assert err["type"] == "error" and err["id"] == 4
        assert "id" not in ask(ws, {"type": "state"})


def test_concurrent_sessions_are_isolated(url: str) -> None:
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            with connect(ws_url(url)) as ws:
                ask(ws, {"type": "reset", "data": {"seed": k}})
                seen = []
                for i in range(10):
                    out = ask(ws, {"type": "step", "data": {"message": f"s{k}-{i}"}})
                    seen.append(out["data"]["observation"]["message"])
                state = ask(ws, {"type": "state"})
                assert state["data"]["step_count"] == 10 and state["data"]["seed"] == k
                results[k] = seen
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert results == {k: [f"s{k}-{i}" for i in range(10)] for k in range(16)}


def test_same_seed_same_first_observation(url: str) -> None:
    firsts = []
    for _ in range(3):
        with connect(ws_url(url)) as ws:
            firsts.append(ask(ws, {"type": "reset", "data": {"seed": 42}})["data"]["observation"])
    assert firsts[0] == firsts[1] == firsts[2]


@pytest.mark.parametrize(
    ("frame", "code", "needle"),
    [
        ("{not json", "INVALID_JSON", "not valid JSON"),
        ("[1, 2]", "INVALID_JSON", "JSON object"),
        ({"type": "dance"}, "UNKNOWN_TYPE", "dance"),
        ({"type": "step", "data": {"mesage": "x"}}, "VALIDATION_ERROR", "action.message"),
        ({"type": "step", "data": {"message": 1}}, "VALIDATION_ERROR", "action.message"),
        ({"type": "step"}, "VALIDATION_ERROR", "data"),
        ({"type": "step", "data": {"message": "x"}, "timeout_s": -1}, "VALIDATION_ERROR", "timeout_s"),
        ({"type": "step", "data": {"message": "x"}, "extra": 1}, "VALIDATION_ERROR", "extra"),
        ({"type": "reset", "data": {"seed": "abc"}}, "VALIDATION_ERROR", "reset.seed"),
        ({"type": "step", "data": {"message": "__crash__"}}, "ENV_ERROR", "asked to crash"),
        ({"type": "step", "data": {"message": "x" * 5000}}, "FRAME_TOO_LARGE", "max_frame_bytes=4096"),
    ],
)
def test_bad_input_gets_error_and_connection_keeps_working(url: str, frame, code: str, needle: str) -> None:
    with connect(ws_url(url)) as ws:
        ask(ws, {"type": "reset", "data": {"seed": 1}})
        err = ask(ws, frame)
        assert err["type"] == "error", err
        assert err["data"]["code"] == code and needle in err["data"]["message"], err
        if code != "ENV_ERROR":  # same episode continues
            assert (
                ask(ws, {"type": "step", "data": {"message": "ok"}})["data"]["observation"]["message"] == "ok"
            )
        assert ask(ws, {"type": "reset", "data": {}})["type"] == "observation"
        assert ask(ws, {"type": "step", "data": {"message": "ok"}})["type"] == "observation"


def test_oversized_frame_error_carries_its_id(url: str) -> None:
    with connect(ws_url(url)) as ws:
        err = ask(ws, {"type": "step", "data": {"message": "y" * 5000}, "id": 77})
        assert err["data"]["code"] == "FRAME_TOO_LARGE" and err["id"] == 77


def test_step_before_reset_and_after_done(url: str) -> None:
    with connect(ws_url(url)) as ws:
        assert ask(ws, {"type": "step", "data": {"message": "x"}})["data"]["code"] == "NOT_RESET"
        assert ask(ws, {"type": "state"})["data"]["episode_id"] is None
    with (
        serve_in_thread(create_app(EchoEnvironment, env_kwargs={"max_steps": 1})) as base,
        connect(ws_url(base)) as ws,
    ):
        ask(ws, {"type": "reset"})
        assert ask(ws, {"type": "step", "data": {"message": "x"}})["data"]["done"] is True
        assert ask(ws, {"type": "step", "data": {"message": "x"}})["data"]["code"] == "EPISODE_DONE"
        ask(ws, {"type": "reset"})
        assert ask(ws, {"type": "step", "data": {"message": "x"}})["type"] == "observation"


def test_timeout_then_reset(url: str) -> None:
    with connect(ws_url(url)) as ws:
        ask(ws, {"type": "reset"})
        t0 = time.monotonic()
        err = ask(ws, {"type": "step", "data": {"message": "sleep:3"}, "timeout_s": 0.2, "id": 5})
        assert time.monotonic() - t0 < 2
        assert err["data"]["code"] == "TIMEOUT" and err["id"] == 5
        assert ask(ws, {"type": "step", "data": {"message": "x"}})["data"]["code"] == "NOT_RESET"
        ask(ws, {"type": "reset"})
        assert ask(ws, {"type": "step", "data": {"message": "x"}})["type"] == "observation"


def test_slow_step_does_not_block_other_sessions(url: str) -> None:
    with connect(ws_url(url)) as slow, connect(ws_url(url)) as fast:
        ask(slow, {"type": "reset"})
        ask(fast, {"type": "reset"})
        # Wide margins (3 s vs 2 s) so a loaded CI machine cannot make a served session look blocked.
        slow.send(json.dumps({"type": "step", "data": {"message": "sleep:3.0"}}))
        t0 = time.monotonic()
        for _ in range(5):
            ask(fast, {"type": "step", "data": {"message": "q"}})
        assert time.monotonic() - t0 < 2.0
        assert json.loads(slow.recv(timeout=10))["type"] == "observation"


def test_capacity_error_frame_then_close() -> None:
    app = create_app(EchoEnvironment, max_sessions=2)
    with serve_in_thread(app) as base, connect(ws_url(base)) as a, connect(ws_url(base)) as b:
        ask(a, {"type": "reset"})
        ask(b, {"type": "reset"})
        with connect(ws_url(base)) as c:
            err = json.loads(c.recv(timeout=5))
            assert err["type"] == "error" and err["data"]["code"] == "CAPACITY"
            assert "max_sessions=2" in err["data"]["message"]
            with pytest.raises(ConnectionClosed) as info:
                c.recv(timeout=5)
            assert info.value.rcvd is not None and info.value.rcvd.code == 1013
        assert httpx.get(base + "/health").json()["sessions"] == 2
        a.close()
        deadline = time.monotonic() + 5
        while httpx.get(base + "/health").json()["sessions"] != 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        with connect(ws_url(base)) as d:  # the slot is free again
            assert ask(d, {"type": "reset"})["type"] == "observation"


def test_reaper_closes_idle_ws_session() -> None:
    app = create_app(EchoEnvironment, idle_timeout_s=0.3)
    with serve_in_thread(app) as base, connect(ws_url(base)) as ws:
        ask(ws, {"type": "reset"})
        for _ in range(4):  # activity keeps it alive past the timeout
            time.sleep(0.15)
            ask(ws, {"type": "step", "data": {"message": "x"}})
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=5)  # then idle: reaped
        assert info.value.rcvd is not None and info.value.rcvd.code == 1001
        assert "idle" in info.value.rcvd.reason
        assert httpx.get(base + "/health").json()["sessions"] == 0
        assert app.state.sessions.reaped == 1


def test_binary_frames_are_accepted(url: str) -> None:
    with connect(ws_url(url)) as ws:
        assert ask(ws, json.dumps({"type": "reset", "id": 1}).encode())["id"] == 1
        out = ask(ws, json.dumps({"type": "step", "data": {"message": "bin"}}).encode())
        assert out["data"]["observation"]["message"] == "bin"
        assert ask(ws, b"\xff\xfe")["data"]["code"] == "INVALID_JSON"

"""Hostile WebSocket (and HTTP session) clients on loopback: state polling that squats a session, sessions
that never end, absurdly nested fields, rewards that overflow."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from openenv_harness.server import ServerLimits, create_app, serve_in_thread
from openenv_harness.spec import Action, Environment, Observation, State


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/ws"


def ask(ws: ClientConnection, frame: Any) -> dict[str, Any]:
    ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))
    return json.loads(ws.recv(timeout=10))


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value} if depth % 2 else [value]
    return value


def test_state_polling_does_not_keep_a_session_alive() -> None:
    app = create_app("echo", idle_timeout_s=0.3)
    with serve_in_thread(app) as base, connect(ws_url(base)) as ws:
        ask(ws, {"type": "reset"})
        deadline = time.monotonic() + 5
        with pytest.raises(ConnectionClosed) as info:
            while time.monotonic() < deadline:
                time.sleep(0.1)
                assert ask(ws, {"type": "state"})["type"] == "state"
        assert info.value.rcvd is not None and info.value.rcvd.code == 1001
        assert "idle" in info.value.rcvd.reason


def test_max_session_lifetime_closes_busy_sessions_between_calls() -> None:
    app = create_app("echo", limits=ServerLimits(max_session_lifetime_s=0.5))
    with serve_in_thread(app) as base:
        t0 = time.monotonic()
        ws = connect(ws_url(base))
        ask(ws, {"type": "reset"})
        sid = httpx.post(base + "/reset", json={}).json()["session_id"]
        with pytest.raises(ConnectionClosed) as info:
            while time.monotonic() - t0 < 5:  # active all along: only the lifetime can end it
                out = ask(ws, {"type": "step", "data": {"message": "x"}})
                if out["type"] == "observation" and out["data"]["done"]:
                    ask(ws, {"type": "reset"})
                time.sleep(0.02)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1001
        assert "max_session_lifetime_s=0.5" in info.value.rcvd.reason
        assert 0.45 < time.monotonic() - t0 < 3
        ws.close()
        for _ in range(100):  # the HTTP session, created a moment later, goes at the reaper's next look
            r = httpx.post(base + "/step", json={"action": {"message": "x"}}, headers={"X-Session-Id": sid})
            if r.status_code != 200:
                break
            time.sleep(0.05)
        assert (r.status_code, r.json()["code"]) == (404, "SESSION_NOT_FOUND")
        assert httpx.get(base + "/metadata").json()["max_session_lifetime_s"] == 0.5


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "state", "id": nested(256)},
        {"type": "step", "data": {"message": "x", "metadata": nested(256)}, "id": 7},
        {"type": "reset", "data": {"seed": 1, "episode_id": nested(300)}, "id": 8},
        {"type": nested(200)},
    ],
    ids=["id", "step-data", "reset-data", "type"],
)
def test_deep_nesting_anywhere_gets_an_error_frame(
    frame: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app("echo")
    caplog.set_level(logging.INFO, logger="openenv_harness")
    with serve_in_thread(app) as base, connect(ws_url(base)) as ws:
        err = ask(ws, frame)
        assert err["type"] == "error" and err["data"]["code"] == "VALIDATION_ERROR", err
        assert "nested deeper than 64" in err["data"]["message"]
        if isinstance(frame.get("id"), int):
            assert err["id"] == frame["id"]
        assert ask(ws, {"type": "reset", "id": 2})["type"] == "observation"  # the connection keeps working
        r = httpx.post(base + "/step", json={"action": {"message": nested(256)}, "session_id": "x"})
        assert (r.status_code, r.json()["code"]) == (422, "VALIDATION_ERROR")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_an_id_that_cannot_be_echoed_exactly_is_refused() -> None:
    app = create_app("echo")
    with serve_in_thread(app) as base, connect(ws_url(base)) as ws:
        err = ask(ws, '{"type": "reset", "id": -9223372036854775809}')  # found by the stateful test
        assert err["data"]["code"] == "VALIDATION_ERROR" and "id" not in err
        assert ask(ws, {"type": "reset", "id": 2**63 - 1})["id"] == 2**63 - 1
        assert ask(ws, {"type": "reset", "id": "9223372036854775809"})["id"] == "9223372036854775809"


class Overflow(Environment[Action, Observation]):
    """Scores 1e305 * 1e6: a weighted sum that overflows to inf."""

    def __init__(self) -> None:
        super().__init__()
        self._state = State()

    def reset(self, seed: int | None = None, episode_id: str | None = None, **_: Any) -> Observation:
        self._state = State(episode_id=episode_id, step_count=0)
        return Observation()

    def step(self, action: Action, timeout_s: float | None = None) -> Observation:
        self._state.step_count += 1
        return Observation(
            reward=1e305 * 1e6,
            metadata={"reward_components": {"big": 1e305}, "reward_weights": {"big": 1e6}},
        )

    @property
    def state(self) -> State:
        return self._state


def test_reward_overflow_is_a_coded_error_not_null() -> None:
    app = create_app(Overflow)
    with serve_in_thread(app) as base, connect(ws_url(base)) as ws:
        ask(ws, {"type": "reset"})
        err = ask(ws, {"type": "step", "data": {}, "id": 3})
        assert err["type"] == "error" and err["data"]["code"] == "REWARD_NOT_FINITE", err
        assert err["id"] == 3 and err["data"]["details"]["reward_weights"] == {"big": 1e6}
        again = ask(ws, {"type": "step", "data": {}})  # the episode is abandoned, as after a timeout
        assert again["data"]["code"] == "NOT_RESET"
        assert ask(ws, {"type": "reset"})["type"] == "observation"
        sid = httpx.post(base + "/reset", json={}).json()["session_id"]
        r = httpx.post(base + "/step", json={"action": {}}, headers={"X-Session-Id": sid})
        assert (r.status_code, r.json()["code"]) == (500, "REWARD_NOT_FINITE")

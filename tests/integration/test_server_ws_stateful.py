"""hypothesis stateful test of the WS protocol on a real server: any sequence of frames, on any number of
connections, leaves the server and every other session working, and nothing is logged as an error."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from openenv_harness.server import create_app, serve_in_thread

MAX_FRAME = 4096
_REPLY_TYPES = {"observation", "state", "error"}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=16,
)


def _nested(depth: int) -> Any:
    value: Any = 0
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


_optional = {"id": json_values, "timeout_s": json_values | st.floats(min_value=1e-9, max_value=5)}
frames = st.one_of(
    st.fixed_dictionaries({"type": st.just("reset")}, optional={"data": json_values, **_optional}),
    st.fixed_dictionaries(
        {
            "type": st.just("step"),
            "data": st.fixed_dictionaries({"message": st.text(max_size=40)}) | json_values,
        },
        optional=_optional,
    ),
    st.fixed_dictionaries({"type": st.just("state")}, optional={"id": json_values}),
    st.fixed_dictionaries({"type": st.just("close")}, optional={"id": json_values}),
    st.dictionaries(st.sampled_from(["type", "data", "id", "timeout_s", "extra"]), json_values, max_size=4),
    st.builds(
        lambda d, t: {"type": t, "id": _nested(d)}, st.integers(60, 400), st.sampled_from(["state", "step"])
    ),
    st.builds(
        lambda n: {"type": "step", "data": {"message": "x" * n}}, st.integers(MAX_FRAME, 4 * MAX_FRAME)
    ),
    json_values,
)
raw = st.text(max_size=64) | st.binary(max_size=64)

SERVER: dict[str, str] = {}


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Errors]]:
    errors = Errors()
    loggers = [logging.getLogger(n) for n in ("openenv_harness", "uvicorn.error", "uvicorn")]
    for lg in loggers:
        lg.addHandler(errors)
    app = create_app("echo", env_kwargs={"max_steps": 5}, max_sessions=32, max_frame_bytes=MAX_FRAME)
    try:
        with serve_in_thread(app) as base:
            yield base, errors
    finally:
        for lg in loggers:
            lg.removeHandler(errors)


def _ws(base: str) -> ClientConnection:
    return connect(base.replace("http://", "ws://") + "/ws", max_size=None, open_timeout=10)


class Protocol(RuleBasedStateMachine):
    """Connections receive arbitrary frames; a witness session must keep working throughout."""

    def __init__(self) -> None:
        super().__init__()
        self.base = SERVER["base"]
        self.conns: list[ClientConnection] = []
        self.witness = _ws(self.base)
        assert self._ask(self.witness, {"type": "reset", "id": "w"})["type"] == "observation"

    @staticmethod
    def _ask(ws: ClientConnection, frame: Any) -> dict[str, Any]:
        ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))
        return json.loads(ws.recv(timeout=10))

    @precondition(lambda self: len(self.conns) < 4)
    @rule()
    def open_connection(self) -> None:
        self.conns.append(_ws(self.base))

    def _send(self, index: int, payload: str | bytes, sent: Any) -> None:
        ws = self.conns[index % len(self.conns)]
        try:
            ws.send(payload)
            reply = json.loads(ws.recv(timeout=10))
        except ConnectionClosed as closed:
            # only a close frame may end a connection, and then with 1000 as OpenEnv does
            assert isinstance(sent, dict) and sent.get("type") == "close", (sent, closed)
            assert closed.rcvd is not None and closed.rcvd.code == 1000
            self.conns.remove(ws)
            return
        assert isinstance(reply, dict) and reply.get("type") in _REPLY_TYPES, reply
        if reply["type"] == "error":
            assert set(reply["data"]) >= {"code", "message"}
        if isinstance(sent, dict) and "id" in reply:
            assert reply["id"] == sent.get("id")

    @precondition(lambda self: self.conns)
    @rule(index=st.integers(0, 3), frame=frames)
    def send_frame(self, index: int, frame: Any) -> None:
        self._send(index, json.dumps(frame), frame)

    @precondition(lambda self: self.conns)
    @rule(index=st.integers(0, 3), payload=raw)
    def send_raw(self, index: int, payload: str | bytes) -> None:
        try:
            sent = json.loads(payload)
        except ValueError:
            sent = None
        self._send(index, payload, sent)

    @precondition(lambda self: self.conns)
    @rule(index=st.integers(0, 3))
    def drop_connection(self, index: int) -> None:
        self.conns.pop(index % len(self.conns)).close()

    @invariant()
    def witness_still_plays(self) -> None:
        out = self._ask(self.witness, {"type": "step", "data": {"message": "w"}, "id": 1})
        if out["type"] == "error":  # the witness's own episode ended: start another
            assert out["data"]["code"] == "EPISODE_DONE", out
            out = self._ask(self.witness, {"type": "reset", "id": 1})
        assert out["type"] == "observation" and out["id"] == 1

    def teardown(self) -> None:
        for ws in [*self.conns, self.witness]:
            ws.close()


def test_any_frame_sequence_leaves_the_server_working(served: tuple[str, Errors]) -> None:
    base, errors = served
    SERVER["base"] = base
    run_state_machine_as_test(
        Protocol,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
    health = httpx.get(base + "/health", timeout=10).json()
    assert health["status"] == "healthy"
    assert not errors.records, [r.getMessage() for r in errors.records]

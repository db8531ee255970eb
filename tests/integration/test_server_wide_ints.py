"""Integers beyond 64 bits in any WS/HTTP field are refused with VALIDATION_ERROR naming the field.

The fast JSON decoder reads them as floats: a seed of 2**64 would silently become 1.8446744073709552e19.
Found by the hypothesis state machine for ``id`` only at first (tests/integration/test_server_ws_stateful.py).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from openenv_harness.server import create_app, serve_in_thread

LOW, HIGH = -(2**63), 2**64 - 1


def ask(ws: ClientConnection, frame: dict[str, Any]) -> dict[str, Any]:
    ws.send(json.dumps(frame))  # the stdlib writes integers of any size exactly
    reply: dict[str, Any] = json.loads(ws.recv(timeout=10))
    return reply


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({"type": "reset", "id": 7, "data": {"seed": HIGH + 1}}, "data.seed"),
        ({"type": "reset", "id": 7, "data": {"seed": LOW - 1}}, "data.seed"),
        ({"type": "step", "id": 7, "data": {"message": "x", "n": [0, 10**30]}}, "data.n.1"),
        ({"type": "step", "id": 7, "timeout_s": 10**40, "data": {"message": "x"}}, "timeout_s"),
    ],
)
def test_ws_fields(frame: dict[str, Any], field: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="openenv_harness")
    with serve_in_thread(create_app("echo")) as base, connect(base.replace("http", "ws") + "/ws") as ws:
        assert ask(ws, {"type": "reset", "data": {"seed": 1}})["type"] == "observation"
        err = ask(ws, frame)
        assert err["type"] == "error" and err["id"] == 7, err
        assert err["data"]["code"] == "VALIDATION_ERROR" and err["data"]["details"]["field"] == field
        assert (
            err["data"]["message"].startswith(f"{field}: integer ")
            and "beyond 64 bits" in err["data"]["message"]
        )
        # The session is untouched and the edges of the range still decode exactly.
        for seed in (HIGH, LOW):
            assert ask(ws, {"type": "reset", "data": {"seed": seed}})["type"] == "observation"
        digits = "1234567890" * 3  # long digit runs inside strings are fine
        obs = ask(ws, {"type": "step", "id": 8, "data": {"message": digits}})
        assert obs["data"]["observation"]["message"] == digits and obs["id"] == 8
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_http_bodies() -> None:
    with serve_in_thread(create_app("echo")) as base, httpx.Client(base_url=base, timeout=10) as c:
        wide = HIGH + 1
        for path, body, field in (
            ("/reset", {"seed": wide}, "seed"),
            ("/step", {"action": {"message": "x", "k": {"v": wide}}}, "action.k.v"),
            ("/config", {"weights": {"length": wide}}, "weights.length"),
        ):
            r = c.post(path, content=json.dumps(body), headers={"content-type": "application/json"})
            assert r.status_code == 422, (path, r.text)
            assert r.json()["code"] == "VALIDATION_ERROR" and r.json()["details"]["field"] == field
        sid = c.post("/reset", content=json.dumps({"seed": HIGH})).json()["session_id"]
        # /state and /close read only session_id: a wide value in a key they ignore cannot be mis-read.
        ignored = json.dumps({"session_id": sid, "note": wide})
        assert (
            c.post("/state", content=ignored, headers={"content-type": "application/json"}).status_code == 200
        )
        assert (
            c.post("/step", json={"action": {"message": "ok"}}, headers={"X-Session-Id": sid}).status_code
            == 200
        )


@pytest.mark.parametrize("bad_id", [LOW - 1, {"": LOW - 1}, [1, HIGH + 1]])
def test_an_id_holding_a_wide_integer_is_refused_without_an_echo(bad_id: Any) -> None:
    """Found by the WS state machine: an id that *contains* a wide int was echoed back as a float."""
    with serve_in_thread(create_app("echo")) as base, connect(base.replace("http", "ws") + "/ws") as ws:
        err = ask(ws, {"type": "state", "id": bad_id})
        assert err["type"] == "error" and err["data"]["code"] == "VALIDATION_ERROR", err
        assert "id" not in err  # an echo would differ from what was sent
        assert ask(ws, {"type": "reset", "id": 3, "data": {"seed": 1}})["id"] == 3  # connection still usable

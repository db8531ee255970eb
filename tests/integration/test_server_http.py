"""Stateful HTTP routes, /config, /health, /metadata, /schema of our server on a real loopback port."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.sync.client import connect

from envs.echo import EchoEnvironment
from openenv_harness.server import create_app, serve_in_thread
from openenv_harness.spec import Action, Environment, Observation, State

TOKEN = "orchestrator-secret"


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    app = create_app("echo", env_kwargs={"max_steps": 3}, orchestrator_token=TOKEN, max_frame_bytes=4096)
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=10) as c:
        yield c


def reset(c: httpx.Client, **body) -> tuple[str, dict]:
    r = c.post("/reset", json=body)
    assert r.status_code == 200, r.text
    data = r.json()
    assert r.headers["x-session-id"] == data["session_id"]
    return data["session_id"], data


def test_reset_step_state_close(client: httpx.Client) -> None:
    sid, first = reset(client, seed=5, episode_id="h5")
    assert set(first) >= {"observation", "reward", "done", "metadata"}
    r = client.post("/step", json={"action": {"message": "abc"}}, headers={"X-Session-Id": sid})
    assert r.status_code == 200 and r.json()["observation"]["message"] == "abc"
    assert r.json()["metadata"]["reward_components"] == {"length": 3.0}
    # the id may also travel in the body
    r = client.post("/step", json={"action": {"message": "de"}, "session_id": sid, "timeout_s": 5})
    assert r.json()["observation"]["message"] == "de"
    assert client.get("/state", headers={"X-Session-Id": sid}).json()["step_count"] == 2
    assert client.post("/state", json={"session_id": sid}).json()["episode_id"] == "h5"
    assert client.post("/step", json={"action": {"message": "f"}, "session_id": sid}).json()["done"] is True
    r = client.post("/step", json={"action": {"message": "g"}, "session_id": sid})
    assert (r.status_code, r.json()["code"]) == (409, "EPISODE_DONE")
    # reset of an existing session keeps its id
    sid2, _ = reset(client, session_id=sid)
    assert sid2 == sid
    assert client.post("/close", headers={"X-Session-Id": sid}).json()["closed"] is True
    r = client.post("/step", json={"action": {"message": "x"}}, headers={"X-Session-Id": sid})
    assert (r.status_code, r.json()["code"]) == (404, "SESSION_NOT_FOUND")


def test_sessions_are_isolated_and_seeded(client: httpx.Client) -> None:
    a, fa = reset(client, seed=9)
    b, fb = reset(client, seed=9)
    assert a != b and fa["observation"] == fb["observation"]
    client.post("/step", json={"action": {"message": "only-a"}, "session_id": a})
    assert client.get("/state", headers={"X-Session-Id": a}).json()["step_count"] == 1
    assert client.get("/state", headers={"X-Session-Id": b}).json()["step_count"] == 0


@pytest.mark.parametrize(
    ("body", "headers", "status", "code", "needle"),
    [
        ({"action": {"message": "x"}}, {}, 409, "NOT_RESET", "/reset"),
        ({"action": {"message": "x"}}, {"X-Session-Id": "nope"}, 404, "SESSION_NOT_FOUND", "/reset"),
        ("{broken", "SID", 400, "INVALID_JSON", "not valid JSON"),
        ([1], "SID", 400, "INVALID_JSON", "JSON object"),
        ({"action": {"mesage": "x"}}, "SID", 422, "VALIDATION_ERROR", "action.message"),
        ({"message": "x"}, "SID", 422, "VALIDATION_ERROR", "unknown body field"),
        ({}, "SID", 422, "VALIDATION_ERROR", "action"),
        ({"action": {"message": "x"}, "timeout_s": "soon"}, "SID", 422, "VALIDATION_ERROR", "timeout_s"),
        ({"action": {"message": "x" * 5000}}, "SID", 413, "FRAME_TOO_LARGE", "max_frame_bytes"),
        ({"action": {"message": "__crash__"}}, "SID", 500, "ENV_ERROR", "asked to crash"),
        ({"action": {"message": "sleep:3"}, "timeout_s": 0.2}, "SID", 504, "TIMEOUT", "timeout_s=0.2"),
    ],
)
def test_step_errors(client: httpx.Client, body, headers, status, code, needle) -> None:
    sid, _ = reset(client)
    if headers == "SID":
        headers = {"X-Session-Id": sid}
    content = body if isinstance(body, str) else json.dumps(body)
    r = client.post("/step", content=content, headers={**headers, "content-type": "application/json"})
    assert r.status_code == status, r.text
    err = r.json()
    assert err["code"] == code and needle in err["message"], err
    # the session keeps working (after a reset when the episode was abandoned)
    reset(client, session_id=sid)
    r = client.post("/step", json={"action": {"message": "ok"}}, headers={"X-Session-Id": sid})
    assert r.status_code == 200


def test_reset_errors(client: httpx.Client) -> None:
    r = client.post("/reset", json={"seed": "x"})
    assert (r.status_code, r.json()["code"]) == (422, "VALIDATION_ERROR") and "reset.seed" in r.json()[
        "message"
    ]
    r = client.post("/reset", json={"session_id": "gone"})
    assert (r.status_code, r.json()["code"]) == (404, "SESSION_NOT_FOUND")
    r = client.post("/reset")  # an empty body is a plain reset
    assert r.status_code == 200
    r = client.get("/state")
    assert (r.status_code, r.json()["code"]) == (409, "NOT_RESET")


def test_info_routes(client: httpx.Client) -> None:
    health = client.get("/health").json()
    assert health["status"] == "healthy" and health["max_sessions"] == 1024
    meta = client.get("/metadata").json()
    assert meta["name"] == "echo" and meta["server"] == "openenv_harness"
    assert meta["protocol"] == {"ids": True, "timeout_s": True, "config": True}
    schema = client.get("/schema").json()
    assert set(schema) >= {"action", "observation", "state", "config"}
    assert "message" in schema["action"]["properties"]


def test_config_token_and_next_reset_semantics(client: httpx.Client) -> None:
    r = client.get("/config")  # reads are guarded like writes
    assert (r.status_code, r.json()["code"]) == (401, "UNAUTHORIZED")
    r = client.get("/config", headers={"Authorization": "Bearer wrong"})
    assert (r.status_code, r.json()["code"]) == (403, "UNAUTHORIZED")
    snap = client.get("/config", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert snap["config"]["weights"] == {"length": 0.1}
    v0 = snap["config_version"]
    sid, first = reset(client)
    assert first["metadata"]["config_version"] == v0
    update = {"weights": {"length": 2.0}}
    r = client.post("/config", json=update)
    assert (r.status_code, r.json()["code"]) == (401, "UNAUTHORIZED")
    r = client.post("/config", json=update, headers={"Authorization": "Bearer wrong"})
    assert (r.status_code, r.json()["code"]) == (403, "UNAUTHORIZED")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = client.post("/config", json={"weights": {"lenght": 1.0}}, headers=auth)
    assert (r.status_code, r.json()["code"]) == (422, "CONFIG_INVALID") and "weights.lenght" in r.json()[
        "message"
    ]
    r = client.post("/config", json={"weights": {"length": "heavy"}}, headers=auth)
    assert r.status_code == 422 and "weights.length" in r.json()["message"]
    r = client.post("/config", json={"schema_version": "99"}, headers=auth)
    assert r.status_code == 422 and "schema_version" in r.json()["message"]
    r = client.post("/config", json=update, headers=auth)
    assert r.status_code == 200 and r.json()["config_version"] == v0 + 1
    # mid-episode: old weights and version
    step = client.post("/step", json={"action": {"message": "ab"}, "session_id": sid}).json()
    assert step["reward"] == pytest.approx(0.2) and step["metadata"]["config_version"] == v0
    # next reset: new weights and version
    first = client.post("/reset", json={"session_id": sid}).json()
    assert first["metadata"]["config_version"] == v0 + 1
    step = client.post("/step", json={"action": {"message": "ab"}, "session_id": sid}).json()
    assert step["reward"] == pytest.approx(4.0) and step["metadata"]["config_version"] == v0 + 1
    client.post("/config", json={"weights": {"length": 0.1}}, headers=auth)


def test_config_applies_to_ws_sessions_at_next_reset(client: httpx.Client) -> None:
    ws_url = str(client.base_url).replace("http://", "ws://") + "/ws"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with connect(ws_url) as ws:
        ws.send(json.dumps({"type": "reset"}))
        v = json.loads(ws.recv(timeout=5))["data"]["metadata"]["config_version"]
        client.post("/config", json={"weights": {"length": 1.0}}, headers=auth).raise_for_status()
        ws.send(json.dumps({"type": "step", "data": {"message": "abc"}}))
        mid = json.loads(ws.recv(timeout=5))["data"]
        assert mid["metadata"]["config_version"] == v and mid["reward"] == pytest.approx(0.3)
        ws.send(json.dumps({"type": "reset"}))
        assert json.loads(ws.recv(timeout=5))["data"]["metadata"]["config_version"] == v + 1
        ws.send(json.dumps({"type": "step", "data": {"message": "abc"}}))
        assert json.loads(ws.recv(timeout=5))["data"]["reward"] == pytest.approx(3.0)
    client.post("/config", json={"weights": {"length": 0.1}}, headers=auth)


class _NoConfigObs(Observation):
    n: int = 0


class _NoConfig(Environment[Action, _NoConfigObs]):
    name = "noconfig"
    observation_type = _NoConfigObs

    def reset(self, seed=None, episode_id=None):  # no **task on purpose
        return _NoConfigObs()

    def step(self, action, timeout_s=None):
        return _NoConfigObs(n=1)

    @property
    def state(self):
        return State()


def test_env_without_config_and_without_token() -> None:
    with serve_in_thread(create_app(_NoConfig)) as base, httpx.Client(base_url=base) as c:
        r = c.get("/config")
        assert (r.status_code, r.json()["code"]) == (404, "UNSUPPORTED") and "no reward config" in r.json()[
            "message"
        ]
        r = c.post("/config", json={"x": 1})  # no token on this server: reaches the UNSUPPORTED answer
        assert (r.status_code, r.json()["code"]) == (404, "UNSUPPORTED")
        assert "config" not in c.get("/schema").json()
        r = c.post("/reset", json={"bogus": 1})  # reset takes no **task: refused by name
        assert r.status_code == 422 and "bogus" in r.json()["message"]


def test_http_capacity_and_reaper() -> None:
    app = create_app(EchoEnvironment, max_sessions=2, idle_timeout_s=0.3)
    with serve_in_thread(app) as base, httpx.Client(base_url=base) as c:
        a = c.post("/reset").json()["session_id"]
        c.post("/reset")
        r = c.post("/reset")
        assert (r.status_code, r.json()["code"]) == (503, "CAPACITY") and r.headers["retry-after"] == "1"
        for _ in range(4):  # `a` stays active, the other one goes idle
            time.sleep(0.15)
            assert c.post("/step", json={"action": {"message": "x"}, "session_id": a}).status_code == 200
        assert c.get("/health").json()["sessions"] == 1
        time.sleep(0.6)
        r = c.post("/step", json={"action": {"message": "x"}, "session_id": a})
        assert (r.status_code, r.json()["code"]) == (404, "SESSION_NOT_FOUND")
        assert "reaped" in r.json()["message"]
        assert app.state.sessions.reaped == 2


def test_concurrent_requests_on_one_session_are_serialised() -> None:
    import asyncio

    app = create_app(EchoEnvironment, env_kwargs={"max_steps": 100})
    with serve_in_thread(app) as base:

        async def main() -> tuple[list[int], int]:
            async with httpx.AsyncClient(base_url=base) as c:
                sid = (await c.post("/reset")).json()["session_id"]
                h = {"X-Session-Id": sid}
                replies = await asyncio.gather(
                    *[
                        c.post("/step", json={"action": {"message": "sleep:0.01"}}, headers=h)
                        for _ in range(12)
                    ]
                )
                count = (await c.get("/state", headers=h)).json()["step_count"]
                return [r.status_code for r in replies], count

        statuses, count = asyncio.run(main())
    assert statuses == [200] * 12 and count == 12

"""`setup_app` and lifespan hooks: how tool-using envs add routes (e.g. /mcp) that find sessions by id."""

from __future__ import annotations

import contextlib
import json

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse
from websockets.sync.client import connect

from envs.echo import EchoEnvironment
from openenv_harness.server import SessionRegistry, create_app, serve_in_thread

EVENTS: list[str] = []


class HookedEcho(EchoEnvironment):
    closed = 0

    @classmethod
    def setup_app(cls, app, sessions: SessionRegistry) -> None:
        async def peek(request: Request) -> JSONResponse:
            session = sessions.get(request.path_params["sid"])
            if session is None:
                return JSONResponse({"error": "no such session"}, status_code=404)
            return JSONResponse({"step_count": session.env.state.step_count})

        app.add_route("/peek/{sid}", peek)

        @contextlib.asynccontextmanager
        async def hook(app):
            EVENTS.append("enter")
            yield
            EVENTS.append(f"exit with {len(sessions)} sessions left")

        app.state.lifespan_hooks.append(hook)

    def close(self) -> None:
        HookedEcho.closed += 1


def test_setup_app_routes_see_sessions_and_lifespan_hooks_run() -> None:
    EVENTS.clear()

    @contextlib.asynccontextmanager
    async def outer(app):
        EVENTS.append("outer-enter")
        yield
        EVENTS.append("outer-exit")

    app = create_app(HookedEcho, lifespans=[outer])
    with serve_in_thread(app) as base:
        assert EVENTS == ["outer-enter", "enter"]
        with connect(base.replace("http", "ws") + "/ws") as ws:
            ws.send(json.dumps({"type": "reset"}))
            sid = json.loads(ws.recv(timeout=5))["data"]["session_id"]
            ws.send(json.dumps({"type": "step", "data": {"message": "a"}}))
            ws.recv(timeout=5)
            assert httpx.get(f"{base}/peek/{sid}").json() == {"step_count": 1}
        http_sid = httpx.post(base + "/reset").json()["session_id"]
        assert httpx.get(f"{base}/peek/{http_sid}").json() == {"step_count": 0}
        assert httpx.get(f"{base}/peek/unknown").status_code == 404
    # shutdown: sessions closed before the hooks exit, hooks exit in reverse order
    assert EVENTS == ["outer-enter", "enter", "exit with 0 sessions left", "outer-exit"]
    assert HookedEcho.closed == 2

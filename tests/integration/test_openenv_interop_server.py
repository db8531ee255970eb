"""Our client drives an environment served by OpenEnv's OWN ``create_app`` (the ``openenv`` PyPI package).

OpenEnv's server rejects unknown top-level frame keys (``id``, ``timeout_s``), so this also proves that the
client detects a server that is not ours and speaks the plain protocol to it.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("openenv")
import uvicorn  # noqa: E402
from openenv.core.env_server import create_app  # noqa: E402
from openenv.core.env_server.interfaces import Environment as OEEnvironment  # noqa: E402
from openenv.core.env_server.types import Action as OEAction  # noqa: E402
from openenv.core.env_server.types import Observation as OEObservation  # noqa: E402
from openenv.core.env_server.types import State as OEState  # noqa: E402

from openenv_harness.client import PLAIN, AsyncEnvClient, EnvClient, HTTPEnvClient  # noqa: E402
from openenv_harness.runtime import RemoteProvider  # noqa: E402
from openenv_harness.spec import EnvError, ErrorCode  # noqa: E402

_WORDS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta")


class OEEchoAction(OEAction):
    message: str


class OEEchoObservation(OEObservation):
    message: str = ""
    greeting: str = ""


class OEEchoEnv(OEEnvironment[OEEchoAction, OEEchoObservation, OEState]):
    """A tiny OpenEnv-native echo env, written against OpenEnv's own base classes."""

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self) -> None:
        super().__init__()
        self._state = OEState(episode_id=None, step_count=0)

    def reset(
        self, seed: int | None = None, episode_id: str | None = None, **kwargs: Any
    ) -> OEEchoObservation:
        self._state = OEState(episode_id=episode_id or uuid.uuid4().hex, step_count=0)
        greeting = random.Random(seed).choice(_WORDS)
        return OEEchoObservation(greeting=greeting, done=False, reward=None, metadata={"seed": seed})

    def step(self, action: OEEchoAction, timeout_s: float | None = None, **kwargs: Any) -> OEEchoObservation:
        if action.message.startswith("sleep:"):
            time.sleep(float(action.message.split(":", 1)[1]))
        self._state.step_count += 1
        return OEEchoObservation(
            message=action.message,
            reward=float(len(action.message)),
            done=self._state.step_count >= 3,
            metadata={"step": self._state.step_count},
        )

    @property
    def state(self) -> OEState:
        return self._state


@pytest.fixture(scope="module")
def openenv_url() -> Iterator[str]:
    os.environ.pop("ENABLE_WEB_INTERFACE", None)  # plain FastAPI app, no gradio UI
    app = create_app(OEEchoEnv, OEEchoAction, OEEchoObservation, env_name="oe_echo", max_concurrent_envs=8)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="websockets-sansio", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "OpenEnv server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_sync_client_drives_openenv_server(openenv_url: str) -> None:
    with EnvClient(openenv_url) as env:
        obs = env.reset(seed=3, episode_id="ep-1")
        assert env.protocol == PLAIN  # detected: not our server, so no ids / timeout_s on the wire
        assert obs.greeting == random.Random(3).choice(_WORDS)  # type: ignore[attr-defined]
        assert obs.done is False
        obs = env.step({"message": "hey"})
        assert obs.message == "hey"  # type: ignore[attr-defined]
        assert obs.reward == 3.0
        assert obs.metadata == {"step": 1}
        state = env.state()
        assert state.episode_id == "ep-1"
        assert state.step_count == 1
        env.step({"message": "a"})
        assert env.step({"message": "b"}).done is True


def test_same_seed_same_first_observation(openenv_url: str) -> None:
    with EnvClient(openenv_url) as a, EnvClient(openenv_url) as b:
        greetings = {a.reset(seed=s).greeting == b.reset(seed=s).greeting for s in range(5)}  # type: ignore[attr-defined]
        assert greetings == {True}


def test_server_error_has_openenv_code(openenv_url: str) -> None:
    with EnvClient(openenv_url) as env:
        env.reset()
        with pytest.raises(EnvError) as info:
            env.step({"not_a_field": 1})
        assert info.value.code == ErrorCode.VALIDATION_ERROR
        assert env.step({"message": "still fine"}).message == "still fine"  # type: ignore[attr-defined]


def test_timeout_on_plain_server_poisons_connection(openenv_url: str) -> None:
    """No request ids: after a client-side timeout the connection is dropped, and reset starts afresh."""
    with EnvClient(openenv_url, request_timeout_s=0.2) as env:
        env.reset(seed=1)
        with pytest.raises(EnvError) as info:
            env.step({"message": "sleep:0.6"})
        assert info.value.code == ErrorCode.TIMEOUT
        with pytest.raises(EnvError) as lost:
            env.step({"message": "next"})
        assert lost.value.code == ErrorCode.CONNECTION_LOST
        time.sleep(0.6)  # the late reply would have arrived by now on the old connection
        env.reset(seed=2)
        assert env.step({"message": "next"}).message == "next"  # type: ignore[attr-defined]
        assert env.state().step_count == 1


def test_async_clients_concurrent_on_openenv_server(openenv_url: str) -> None:
    async def one(i: int) -> tuple[str, list[str]]:
        async with AsyncEnvClient(openenv_url) as env:
            await env.reset(seed=i)
            out = []
            for j in range(2):
                out.append((await env.step({"message": f"{i}-{j}"})).message)  # type: ignore[attr-defined]
            return (await env.state()).episode_id or "", out

    async def main() -> list[tuple[str, list[str]]]:
        return await asyncio.gather(*(one(i) for i in range(6)))

    results = asyncio.run(main())
    assert [r[1] for r in results] == [[f"{i}-0", f"{i}-1"] for i in range(6)]
    assert len({r[0] for r in results}) == 6


def test_http_client_refuses_stateless_openenv_http(openenv_url: str) -> None:
    with HTTPEnvClient(openenv_url) as env, pytest.raises(EnvError) as info:
        env.reset(seed=1)
    assert info.value.code == ErrorCode.UNSUPPORTED
    assert "EnvClient" in info.value.message


def test_remote_provider_over_openenv_server(openenv_url: str) -> None:
    with RemoteProvider([openenv_url]) as provider, provider.client() as env:
        assert env.reset(seed=2).greeting == random.Random(2).choice(_WORDS)  # type: ignore[attr-defined]
        assert env.step({"message": "via provider"}).message == "via provider"  # type: ignore[attr-defined]
        assert env.metadata()["name"]  # OpenEnv's /metadata works through the control API
        with pytest.raises(EnvError) as info:
            provider.push_config({"weights": {"length": 1.0}})
        assert info.value.code == ErrorCode.UNSUPPORTED
        assert "/config" in info.value.message

"""The LLM-played user against a stand-in OpenAI-compatible endpoint served on loopback."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from envs.support import SupportAction, SupportEnvironment
from envs.support.oracle import hidden, oracle_action
from openenv_harness.client import EnvClient
from openenv_harness.server import create_app
from openenv_harness.spec import EnvError, ErrorCode


def _endpoint(received: list[dict[str, Any]], fail: bool = False) -> FastAPI:
    """A third-party chat-completions server stand-in: it plays the customer from its system prompt."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> JSONResponse:
        body = await request.json()
        received.append({"body": body, "auth": request.headers.get("authorization")})
        if fail:
            return JSONResponse({"error": {"message": "model overloaded"}}, status_code=503)
        system, last = body["messages"][0]["content"], body["messages"][-1]["content"].lower()
        if last.startswith("hi! how can i help"):
            reply = "Hello, I need help with one of my orders."
        elif "email" in last:
            reply = "Sure: " + re.search(r"your email is (\S+?)[,.] ", system).group(1)  # type: ignore[union-attr]
        elif "all done" in last:
            reply = "Perfect, thanks a lot! ###STOP###"
        else:
            reply = "Could you please take care of it?"
        return JSONResponse(
            {
                "id": f"chatcmpl-{len(received)}",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )

    return app


def _user(url: str) -> dict[str, Any]:
    return {
        "kind": "llm",
        "base_url": f"{url}/v1",
        "model": "stand-in-7b",
        "temperature": 0.0,
        "max_tokens": 64,
        "api_key_env": "SUPPORT_TEST_KEY",
    }


def test_llm_user_conversation_and_request_shape(
    serve_app: Callable[[Any], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPPORT_TEST_KEY", "sk-test")
    received: list[dict[str, Any]] = []
    with serve_app(_endpoint(received)) as url:
        env = SupportEnvironment(user=_user(url))
        seed = 3
        obs = env.reset(seed=seed)
        assert obs.user_message == "Hello, I need help with one of my orders."
        goal = env.ground_truth()["goal"]
        obs = env.step(SupportAction(message="Can I have your email?"))
        assert obs.user_message == f"Sure: {goal['email']}"
        received.clear()
        obs = env.reset(seed=seed)  # a fresh conversation, played by the oracle from its first observation
        obs = env.step(SupportAction(message="Can I have your email?"))
        h = hidden(seed)
        obs = env.step(SupportAction.model_validate(oracle_action({"policy": "x"}, h)))
        while not obs.done:
            obs = env.step(SupportAction.model_validate(oracle_action(obs.model_dump(mode="json"), h)))
        assert obs.user_message == "Perfect, thanks a lot!"  # the stop marker is stripped
        assert obs.metadata["user_ended"] is True
        assert obs.metadata["reward_components"] == {"db_match": 1.0, "communication": 1.0}
    first, last = received[0], received[-1]
    assert first["auth"] == "Bearer sk-test"
    body = last["body"]
    assert body["model"] == "stand-in-7b" and body["temperature"] == 0.0 and body["max_tokens"] == 64
    assert body["seed"] == seed
    system = body["messages"][0]
    assert (
        system["role"] == "system"
        and goal["order_id"] in system["content"]
        and "###STOP###" in system["content"]
    )
    # Roles are flipped: the agent speaks as "user", the simulated customer as "assistant".
    assert [m["role"] for m in body["messages"][1:5]] == ["user", "assistant", "user", "assistant"]
    assert body["messages"][3]["content"] == "Can I have your email?"


def test_llm_user_endpoint_errors_are_clear(serve_app: Callable[[Any], Any]) -> None:
    with serve_app(_endpoint([], fail=True)) as url:
        env = SupportEnvironment(user=_user(url))
        with pytest.raises(EnvError) as info:
            env.reset(seed=0)
        assert (
            info.value.code == ErrorCode.ENV_ERROR
            and "503" in info.value.message
            and url in info.value.message
        )
    env = SupportEnvironment(user=_user(url))  # the stand-in is gone now: connection refused
    with pytest.raises(EnvError, match="unreachable"):
        env.reset(seed=0)


def test_support_env_with_llm_user_behind_our_server(serve_app: Callable[[Any], Any]) -> None:
    received: list[dict[str, Any]] = []
    with serve_app(_endpoint(received)) as llm_url:
        app = create_app(SupportEnvironment, env_kwargs={"user": _user(llm_url)}, max_sessions=2)
        with serve_app(app) as env_url, EnvClient(env_url) as client:
            obs = client.reset(seed=1)
            assert obs.user_message == "Hello, I need help with one of my orders."
            h = hidden(1)
            while not obs.done:
                obs = client.step(oracle_action(obs.model_dump(mode="json"), h))
            assert obs.reward == pytest.approx(1.25)
    assert len(received) >= 2

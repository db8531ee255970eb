"""JudgeRubric against a real HTTP server on loopback that answers in the OpenAI chat-completions shape.

The server stands in for a third-party judge (vLLM, an OpenAI endpoint); it is not our own server.
"""

import asyncio
import socket
import threading
import time

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from openenv_harness.rubric import RubricError, WeightedSum
from openenv_harness.rubric._judge import JudgeError, JudgeRubric
from openenv_harness.spec import Action


class Answer(Action):
    response: str


def _judge_app(received: list) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        received.append({"body": body, "auth": request.headers.get("authorization")})
        prompt = body["messages"][-1]["content"]
        if "server-error" in prompt:
            return JSONResponse({"error": "overloaded"}, status_code=503)
        if "bad-shape" in prompt:
            return {"nope": 1}
        if "slow" in prompt:
            await asyncio.sleep(0.8)
        text = "I like it." if "unparsable" in prompt else f"Reasoning... Score: {len(prompt) % 11}"
        return {
            "id": "cmpl-1",
            "object": "chat.completion",
            "model": body["model"],
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
        }

    return app


@pytest.fixture(scope="module")
def judge_server():
    received: list = []
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(_judge_app(received), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield f"http://127.0.0.1:{port}/v1", received
    server.should_exit = True
    thread.join(timeout=5)


def test_judge_scores_and_sends_its_config(judge_server, monkeypatch):
    url, received = judge_server
    monkeypatch.setenv("JUDGE_KEY", "sekret")
    judge = JudgeRubric(
        base_url=url,
        model="tiny-judge",
        temperature=0.3,
        max_tokens=8,
        seed=3,
        api_key_env="JUDGE_KEY",
        prompt_template="Q: {question}\nA: {response}\nScore it.",
        system_prompt="be fair",
    )
    judge.reset(context={"question": "2+2?"})
    prompt = "Q: 2+2?\nA: 4\nScore it."
    assert judge(Answer(response="4"), None) == (len(prompt) % 11) / 10
    body = received[-1]["body"]
    assert (
        body["model"] == "tiny-judge"
        and body["temperature"] == 0.3
        and body["max_tokens"] == 8
        and body["seed"] == 3
    )
    assert body["messages"] == [{"role": "system", "content": "be fair"}, {"role": "user", "content": prompt}]
    assert received[-1]["auth"] == "Bearer sekret"


def test_unparsable_answer_and_server_errors_are_reported_not_zero(judge_server):
    url, _ = judge_server
    ws = WeightedSum(
        {
            "judge": JudgeRubric(base_url=url, prompt_template="{response}"),
            "other": JudgeRubric(base_url=url, prompt_template="{response}", retries=0),
        }
    )
    res = ws.score("unparsable please", None)
    assert res.reward is None and res.components == {}
    assert "unparsable judge answer" in res.errors["judge"] and "I like it." in res.errors["judge"]
    res = ws.score("server-error", None, weights={"other": 0.0})
    assert "answered HTTP 503" in res.errors["judge"] and res.reward is None
    res = ws.score("bad-shape", None)
    assert "not a chat completion" in res.errors["judge"]


def test_unreachable_judge_is_an_error(judge_server):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()  # nothing listens there now
    judge = JudgeRubric(base_url=f"http://127.0.0.1:{dead}/v1", prompt_template="{response}", retries=1)
    with pytest.raises(JudgeError, match="is unreachable"):
        judge("hi", None)
    res = judge.score("hi", None)
    assert res.reward is None and "unreachable" in res.errors["judge_rubric"]


def test_timeout_missing_context_and_missing_key(judge_server, monkeypatch):
    url, _ = judge_server
    with pytest.raises(JudgeError, match="timed out"):
        JudgeRubric(base_url=url, prompt_template="{response}", timeout_s=0.05, retries=0)("slow", None)
    with pytest.raises(JudgeError, match=r"the template needs 'reference' but the episode context has \[\]"):
        JudgeRubric(base_url=url, prompt_template="{reference} {response}")("x", None)
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    with pytest.raises(JudgeError, match="NO_SUCH_KEY_VAR"):
        JudgeRubric(base_url=url, api_key_env="NO_SUCH_KEY_VAR", prompt_template="{response}")("x", None)
    with pytest.raises(RubricError, match="capture group"):
        JudgeRubric(score_pattern="Score")


def test_judges_in_a_weighted_sum_run_concurrently(judge_server):
    url, _ = judge_server
    ws = WeightedSum(
        {f"j{i}": JudgeRubric(base_url=url, prompt_template="slow {response}") for i in range(4)}
    )
    t0 = time.perf_counter()
    res = ws.score("x", None)
    assert not res.errors and len(res.components) == 4
    assert time.perf_counter() - t0 < 2.4  # 4 x 0.8 s one after another would be 3.2 s

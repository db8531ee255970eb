"""The OpenAI-compatible policy against a real HTTP server on loopback that serves the local model."""

import threading

import pytest

from openenv_harness.config import compose_config
from openenv_harness.harness.serve_policy import create_policy_app
from openenv_harness.rollout import (
    EnvRuntime,
    HFPolicy,
    OpenAIPolicy,
    PolicyError,
    Task,
    adapter_for,
    embedded_model_path,
    run_episodes,
)
from openenv_harness.server import bind_socket, make_server, url_of

pytestmark = [pytest.mark.model, pytest.mark.slow]


@pytest.fixture(scope="module")
def local():
    return HFPolicy(str(embedded_model_path()), temperature=0.0, max_new_tokens=12)


@pytest.fixture(scope="module")
def endpoint(local):
    sock = bind_socket("127.0.0.1", 0)
    server = make_server(create_policy_app(local, "smol"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield url_of(sock) + "/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


CHATS = [
    [
        {"role": "system", "content": "Answer with just the number."},
        {"role": "user", "content": f"What is {a} + {b}?"},
    ]
    for a, b in ((1, 2), (3, 4), (5, 3))
]


def test_greedy_over_http_equals_local(local, endpoint):
    remote = OpenAIPolicy(endpoint, "smol", temperature=0.0, max_new_tokens=12)
    assert remote.generate(CHATS) == [local.generate([c])[0] for c in CHATS]
    # Greedy decoding is deterministic: asking again gives the same text.
    assert remote.generate(CHATS[:1]) == remote.generate(CHATS[:1])


def test_multi_turn_history_is_sent(local, endpoint):
    remote = OpenAIPolicy(endpoint, "smol", temperature=0.0, max_new_tokens=12)
    chat = CHATS[0] + [{"role": "assistant", "content": "3"}, {"role": "user", "content": "And 3 + 3?"}]
    assert remote.generate([chat]) == local.generate([chat])


def test_episodes_through_the_endpoint(endpoint):
    cfg = compose_config(["env=arith", "runtime.sessions=3"])
    policy = OpenAIPolicy(endpoint, "smol", temperature=0.0, max_new_tokens=12)
    with EnvRuntime(cfg.runtime, "arith", {"difficulty": 1}) as rt:
        eps = rt.run(run_episodes(rt, policy, adapter_for("arith"), [Task(s) for s in range(3)]))
    assert [e.error for e in eps] == [None, None, None]
    assert all(e.done and e.turns[0].completion and "correct" in e.components for e in eps)


def test_unreachable_endpoint_is_a_clear_error():
    policy = OpenAIPolicy("http://127.0.0.1:9/v1", "x", timeout_s=2)
    with pytest.raises(PolicyError, match="127.0.0.1:9"):
        policy.generate(CHATS[:1])

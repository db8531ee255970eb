"""``rubric=judge`` builds the judge it names inside the env servers; a judge outage is an error, not a zero."""

import threading

import pytest

from openenv_harness.config import compose_config
from openenv_harness.harness.serve_policy import create_policy_app
from openenv_harness.harness.tasks import env_kwargs_of
from openenv_harness.harness.train import typed
from openenv_harness.rollout import EnvRuntime, Policy, ScriptedPolicy, Task, adapter_for, run_episodes
from openenv_harness.rubric import RubricError
from openenv_harness.server import bind_socket, make_server, url_of


class FixedJudge(Policy):
    """A judge model that always answers the same grade (served by our real policy server)."""

    name = "fixed"

    def generate(self, chats, *, temperature=None, max_new_tokens=None):
        return ["Score: 8" for _ in chats]


@pytest.fixture(scope="module")
def judge_url():
    sock = bind_socket("127.0.0.1", 0)
    server = make_server(create_policy_app(FixedJudge(), "judge"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield url_of(sock) + "/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def _episodes(base_url: str) -> list:
    cfg = compose_config(
        [
            "env=arith",
            "rubric=judge",
            f"rubric.params.children.judge.base_url={base_url}",
            "runtime.sessions=2",
        ]
    )
    kwargs = env_kwargs_of(typed(cfg))
    assert kwargs["rubric"]["_target_"] == "openenv_harness.rubric.WeightedSum"
    with EnvRuntime(cfg.runtime, "arith", kwargs, cfg.server) as rt:  # real server processes on loopback
        adapter = adapter_for("arith")
        return rt.run(run_episodes(rt, ScriptedPolicy(adapter), adapter, [Task(1), Task(2)]))


def test_the_judge_scores_inside_the_env(judge_url):
    for ep in _episodes(judge_url):
        assert ep.error is None
        comps, weights = ep.turns[-1].components, ep.turns[-1].weights
        assert set(weights) == {"judge", "length"} and comps["judge"] == pytest.approx(0.8)
        assert ep.reward == pytest.approx(1.0 * comps["judge"] + 0.1 * comps["length"])


def test_a_judge_outage_is_an_error_never_a_zero():
    sock = bind_socket("127.0.0.1", 0)
    dead = url_of(sock) + "/v1"
    sock.close()  # nothing listens there any more
    for ep in _episodes(dead):
        assert ep.reward is None and ep.error and "reward is None" in ep.error


def test_a_bad_rubric_target_fails_before_anything_starts():
    cfg = compose_config(["env=arith", "rubric=judge", "rubric.params.children.judge._target_=os.system"])
    with pytest.raises(RubricError, match="os.system"):
        env_kwargs_of(typed(cfg))

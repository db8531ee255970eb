"""Live reward config against the real server on loopback: POST /config, next-reset semantics, no torn configs.

The environment is the echo env with a rubric-computed reward (three components), so every observation carries
``reward_components``, ``reward_weights`` and ``config_version`` as an env built on ``openenv_harness.rubric``
reports them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from envs.echo import EchoAction, EchoObservation
from openenv_harness.client import EnvClient
from openenv_harness.rubric import RewardConfig, RewardResult, WeightedSum, check_reward_config, combine
from openenv_harness.runtime import InProcessProvider
from openenv_harness.server import create_app, serve_in_thread
from openenv_harness.spec import EnvError, Environment, ErrorCode, State
from rubrics.format import RegexMatch
from rubrics.length import LengthPenalty

DEFAULT = {"length": 0.25, "shout": 1.0, "polite": 0.5}


@dataclass
class ScoredEchoConfig(RewardConfig):
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT))


class ScoredEcho(Environment[EchoAction, EchoObservation]):
    """Echo whose reward is a rubric: length penalty + ends with '!' + says please."""

    name = "scored_echo"
    action_type = EchoAction
    observation_type = EchoObservation
    config_type = ScoredEchoConfig

    def __init__(self, max_steps: int = 1000) -> None:
        super().__init__()
        self.max_steps = max_steps
        self._state = State()
        self.rubric = WeightedSum(
            {
                "length": LengthPenalty(max_length=4, span=16, text_field="message"),
                "shout": RegexMatch(pattern=r"!$", text_field="message"),
                "polite": RegexMatch(pattern="please", flags=["IGNORECASE"], text_field="message"),
            }
        )
        check_reward_config(self.reward_config, self.rubric)

    def reset(self, seed=None, episode_id=None, **task):
        self._state = State(episode_id=episode_id or "ep", step_count=0)
        self.rubric.reset(context=task)
        return EchoObservation(metadata=self.base_metadata())

    def step(self, action, timeout_s=None):
        self._state.step_count += 1
        obs = EchoObservation(message=action.message, done=self._state.step_count >= self.max_steps)
        result = self.rubric.score(action, obs, weights=self.reward_config.weights)
        obs.reward = result.reward
        obs.metadata.update(self.base_metadata(), **result.to_metadata())
        return obs

    @property
    def state(self):
        return self._state


TOKEN = "orchestrator-secret"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    app = create_app(ScoredEcho, env_kwargs={"max_steps": 1000}, orchestrator_token=TOKEN)
    with serve_in_thread(app) as base:
        yield base


def post(url: str, body: Any, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{url}/config", json=body, headers=headers, timeout=10)


def current(url: str) -> dict[str, Any]:
    resp = httpx.get(f"{url}/config", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_get_config_shape(url: str) -> None:
    snap = current(url)
    assert set(snap) == {"schema_version", "config", "config_version", "json_schema"}
    assert snap["schema_version"] == "1" and set(snap["config"]["weights"]) == set(DEFAULT)
    assert "weights" in snap["json_schema"]["properties"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"weights": {"shuot": 1.0}}, "weights.shuot"),
        ({"weigths": {"shout": 1.0}}, "weigths"),
        ({"weights": {"shout": -0.5}}, "weights.shout"),
        ({"weights": {"shout": "loud"}}, "weights.shout"),
        ({"schema_version": "0", "weights": {"shout": 1.0}}, "schema_version"),
    ],
)
def test_invalid_updates_are_4xx_naming_the_field(url: str, body: dict, field: str) -> None:
    before = current(url)["config_version"]
    resp = post(url, body)
    assert 400 <= resp.status_code < 500
    err = resp.json()
    assert err["code"] == "CONFIG_INVALID" and field in err["message"]
    assert current(url)["config_version"] == before  # nothing applied


def test_token_is_required_to_post(url: str) -> None:
    assert post(url, {"weights": {"shout": 1.0}}, token=None).status_code == 401
    assert post(url, {"weights": {"shout": 1.0}}, token="wrong").status_code == 403


def test_token_is_required_to_read_config_too(url: str) -> None:
    missing = httpx.get(f"{url}/config", timeout=10)
    assert (missing.status_code, missing.json()["code"]) == (401, "UNAUTHORIZED")
    assert missing.headers["www-authenticate"] == "Bearer" and "GET /config" in missing.json()["message"]
    wrong = httpx.get(f"{url}/config", headers={"Authorization": "Bearer wrong"}, timeout=10)
    assert (wrong.status_code, wrong.json()["code"]) == (403, "UNAUTHORIZED")
    assert "config" not in wrong.json()  # no snapshot leaks with the refusal
    # Every client sends the token it was given; without one, get_config is refused with a clear code.
    with EnvClient(url, token=TOKEN) as env:
        assert env.get_config()["config_version"] == current(url)["config_version"]
    with EnvClient(url) as anon, pytest.raises(EnvError) as info:
        anon.get_config()
    assert info.value.code == ErrorCode.UNAUTHORIZED
    with EnvClient(url) as anon:  # ... or with a token given per call
        assert anon.get_config(token=TOKEN)["config"] == current(url)["config"]


def test_weights_pushed_mid_episode_apply_at_next_reset_only(url: str) -> None:
    with EnvClient(url, token=TOKEN) as env:
        first = env.reset(seed=1)
        v0 = first.metadata["config_version"]
        before = env.step({"message": "hi please!"})
        assert before.metadata["reward_weights"] == current(url)["config"]["weights"]
        old_weights = before.metadata["reward_weights"]

        new = {"length": 0.0, "shout": 3.0, "polite": 0.125}
        snap = env.push_config({"weights": new, "schema_version": "1"})
        assert snap["config"]["weights"] == new and snap["config_version"] == v0 + 1

        during = env.step({"message": "hi please!"})  # same episode: old config
        assert during.metadata["reward_weights"] == old_weights
        assert during.metadata["config_version"] == v0
        assert during.reward == before.reward

        assert env.reset(seed=1).metadata["config_version"] == v0 + 1
        after = env.step({"message": "hi please!"})
        assert after.metadata["reward_weights"] == new and after.metadata["config_version"] == v0 + 1
        assert after.reward == 3.0 + 0.125  # length weight 0 drops the length penalty


def test_offline_reweighting_reproduces_wire_rewards_exactly(url: str) -> None:
    post(url, {"weights": {"length": 0.1, "shout": 0.7, "polite": 0.3}})
    with EnvClient(url) as env:
        env.reset(seed=0)
        for msg in ["a", "loud!", "Please be long enough to be penalised!", "x" * 40]:
            obs = env.step({"message": msg})
            meta = json.loads(json.dumps(obs.metadata))
            assert combine(meta["reward_components"], meta["reward_weights"]) == obs.reward  # exact
            other = {"length": 2.0, "shout": 0.0, "polite": 1.0}
            rescored = ScoredEcho().rubric.score(EchoAction(message=msg), None, weights=other).reward
            assert RewardResult.from_metadata(meta).reweighted(other) == rescored


def test_concurrent_pushes_never_produce_a_torn_config(url: str) -> None:
    # Every pushed config is a whole triple (k, 2k, 3k); a torn one would mix two k's.
    pushers, pushes_each, walkers, episodes = 4, 12, 4, 12
    answers: list[dict[str, Any]] = []
    seen: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start_version = current(url)["config_version"]
    start = threading.Barrier(pushers + walkers)

    def push(p: int) -> None:
        try:
            with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
                start.wait()
                for i in range(pushes_each):
                    k = float(1 + p * pushes_each + i)
                    sent = {"length": k, "shout": 2 * k, "polite": 3 * k}
                    snap = client.post(f"{url}/config", json={"weights": sent}).json()
                    with lock:
                        answers.append({"sent": sent, **snap})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def walk(w: int) -> None:
        try:
            with EnvClient(url) as env:
                start.wait()
                for e in range(episodes):
                    version = env.reset(seed=e).metadata["config_version"]
                    for _ in range(2):
                        obs = env.step({"message": f"walker {w}!"})
                        assert obs.metadata["config_version"] == version  # never changes mid-episode
                        with lock:
                            seen.append({"reward": obs.reward, **obs.metadata})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=push, args=(p,)) for p in range(pushers)]
    threads += [threading.Thread(target=walk, args=(w,)) for w in range(walkers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(answers) == pushers * pushes_each and len(seen) == walkers * episodes * 2

    # each POST answers with the config it produced, and versions are unique and dense
    assert all(a["config"]["weights"] == a["sent"] for a in answers)
    versions = sorted(a["config_version"] for a in answers)
    assert versions == list(range(start_version + 1, start_version + 1 + pushers * pushes_each))
    by_version = {a["config_version"]: a["sent"] for a in answers}
    for obs in seen:
        w = obs["reward_weights"]
        k = w["length"]
        assert w == {"length": k, "shout": 2 * k, "polite": 3 * k} or obs["config_version"] == start_version
        if obs["config_version"] != start_version:
            assert by_version[obs["config_version"]] == w  # the version names exactly this config
        assert combine(obs["reward_components"], w) == obs["reward"]
    assert current(url)["config_version"] == start_version + pushers * pushes_each


def test_inprocess_provider_push_config_applies_at_next_reset() -> None:
    provider = InProcessProvider(ScoredEcho, max_steps=10)
    with provider:
        env = provider.client()
        env.reset(seed=0)
        w0 = env.step({"message": "please!"}).metadata["reward_weights"]
        provider.push_config({"weights": {"polite": 0.0}})
        assert env.step({"message": "please!"}).metadata["reward_weights"] == w0
        env.reset(seed=0)
        obs = env.step({"message": "please!"})
        assert obs.metadata["reward_weights"]["polite"] == 0.0 and obs.metadata["config_version"] == 1
        env.close()


def test_http_sessions_also_switch_config_only_at_reset(url: str) -> None:
    from openenv_harness.client import HTTPEnvClient

    post(url, {"weights": {"shout": 1.0}})
    env = HTTPEnvClient(url, token=TOKEN)
    try:
        v = env.reset(seed=3).metadata["config_version"]
        assert env.step({"message": "yes!"}).metadata["reward_weights"]["shout"] == 1.0
        env.push_config({"weights": {"shout": 0.5}})
        mid = env.step({"message": "yes!"})
        assert mid.metadata["reward_weights"]["shout"] == 1.0 and mid.metadata["config_version"] == v
        env.reset(seed=3)
        after = env.step({"message": "yes!"})
        assert after.metadata["reward_weights"]["shout"] == 0.5 and after.metadata["config_version"] == v + 1
    finally:
        env.close()

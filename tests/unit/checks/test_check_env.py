"""check_env passes the shipped envs and catches each kind of contract break in deliberately broken ones."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import pytest

from envs.arith import ArithEnvironment
from envs.echo import EchoEnvironment
from openenv_harness.checks import CheckReport, ConformanceError, EnvOracle, check_env, null_from_schema
from openenv_harness.spec import Action, EnvError, Environment, ErrorCode, Observation, State


class GuessAction(Action):
    guess: str


class GuessObs(Observation):
    prompt: str = ""


@dataclass
class GuessConfig:
    schema_version: str = "1"
    weights: dict[str, float] = field(default_factory=lambda: {"right": 1.0})


class GuessEnv(Environment[GuessAction, GuessObs]):
    """A correct single-turn env (guess the secret word); subclasses break one rule each."""

    name = "guess"
    action_type = GuessAction
    observation_type = GuessObs
    config_type = GuessConfig
    WORDS = ("apple", "banana", "cherry", "damson", "elderberry")

    def __init__(self) -> None:
        super().__init__()
        self._state = State()
        self._secret: str | None = None
        self._done = True

    def secret_for(self, seed: int | None) -> str:
        return random.Random(seed).choice(self.WORDS)

    def prompt_for(self, seed: int | None) -> str:
        return f"guess the fruit #{seed}"

    def reset(self, seed: int | None = None, episode_id: str | None = None, **task: Any) -> GuessObs:
        if task:
            raise EnvError(ErrorCode.VALIDATION_ERROR, f"unknown reset arguments {sorted(task)}")
        self._secret = self.secret_for(seed)
        self._state = State(episode_id=episode_id or "ep", step_count=0)
        self._done = False
        return GuessObs(prompt=self.prompt_for(seed), metadata=self.base_metadata())

    def step(self, action: GuessAction, timeout_s: float | None = None) -> GuessObs:
        if self._secret is None:
            raise EnvError(ErrorCode.NOT_RESET, "reset first")
        if self._done:
            raise EnvError(ErrorCode.EPISODE_DONE, "over")
        self._state.step_count += 1
        self._done = True
        right = float(action.guess == self._secret)
        w = self.reward_config.weights["right"]
        meta = {**self.base_metadata(), "reward_components": {"right": right}, "reward_weights": {"right": w}}
        return GuessObs(reward=self.reward_of(w, right), done=True, metadata=meta)

    def reward_of(self, w: float, right: float) -> float:
        return w * right

    @property
    def state(self) -> State:
        return self._state


ORACLE = EnvOracle(
    act=lambda obs, hidden: {"guess": hidden["secret"]},
    hidden=lambda seed, **_: {"secret": GuessEnv().secret_for(seed)},
    null=lambda obs: {"guess": ""},
)


def _status(report: CheckReport, name: str) -> str | None:
    return report.status_of(name)


def test_a_correct_env_passes_every_check() -> None:
    report = check_env(GuessEnv, oracle=ORACLE)
    assert report.ok, str(report)
    assert [r.status for r in report.results].count("pass") == 10


def test_shipped_envs_pass_as_bare_envs() -> None:
    check_env(ArithEnvironment, oracle="envs.arith.oracle").raise_for_failures()
    report = check_env(EchoEnvironment)  # echo has no hidden state and no bounded maximum
    report.raise_for_failures()
    assert _status(report, "oracle_max") == "skip"


def test_ignored_seed_is_caught() -> None:
    class Unseeded(GuessEnv):
        def prompt_for(self, seed: int | None) -> str:
            return "guess the fruit"

    report = check_env(Unseeded, oracle=ORACLE)
    assert _status(report, "seed_determinism") == "fail"
    assert "same first observation" in str(report)


def test_nondeterministic_first_observation_is_caught() -> None:
    class Noisy(GuessEnv):
        def prompt_for(self, seed: int | None) -> str:
            return f"guess #{random.random()}"

    assert _status(check_env(Noisy, oracle=ORACLE), "seed_determinism") == "fail"


def test_ground_truth_leak_is_caught() -> None:
    class Leaky(GuessEnv):
        def prompt_for(self, seed: int | None) -> str:
            return f"psst, it is {self.secret_for(seed)}"

    report = check_env(Leaky, oracle=ORACLE)
    assert _status(report, "no_ground_truth") == "fail"
    with pytest.raises(ConformanceError, match="no_ground_truth"):
        report.raise_for_failures()


def test_leak_in_metadata_is_caught() -> None:
    class LeakyMeta(GuessEnv):
        def base_metadata(self) -> dict[str, Any]:
            return {**super().base_metadata(), "debug": {"secret": self._secret}}

    assert _status(check_env(LeakyMeta, oracle=ORACLE), "no_ground_truth") == "fail"


def test_reward_that_does_not_match_components_is_caught() -> None:
    class Inflated(GuessEnv):
        def reward_of(self, w: float, right: float) -> float:
            return w * right + 0.7

    report = check_env(Inflated, oracle=ORACLE)
    assert _status(report, "reward_metadata") == "fail"
    assert _status(report, "null_below") == "fail"  # 0.7 for nothing is not clearly below the maximum 1.0


def test_reward_must_equal_combine_exactly_not_approximately() -> None:
    # 1e-12 off passes any isclose() but breaks offline re-weighting bit for bit, which the contract promises.
    class Drifting(GuessEnv):
        def reward_of(self, w: float, right: float) -> float:
            return w * right + 1e-12

    report = check_env(Drifting, oracle=ORACLE)
    assert _status(report, "reward_metadata") == "fail"
    assert "combine(components, weights)" in str(report)


def test_weighted_component_missing_from_components_is_caught() -> None:
    class Missing(GuessEnv):
        def step(self, action: GuessAction, timeout_s: float | None = None) -> GuessObs:
            obs = super().step(action, timeout_s)
            obs.metadata["reward_components"] = {}
            return obs

    report = check_env(Missing, oracle=ORACLE)
    assert _status(report, "reward_metadata") == "fail"
    assert "missing from reward_components" in str(report)


def test_wrong_error_codes_are_caught() -> None:
    class Sloppy(GuessEnv):
        def step(self, action: GuessAction, timeout_s: float | None = None) -> GuessObs:
            if self._secret is None:
                raise RuntimeError("boom")
            return super().step(action, timeout_s)

    report = check_env(Sloppy, oracle=ORACLE)
    assert _status(report, "error_codes") == "fail"
    assert "RuntimeError" in str(report)


def test_accepting_unknown_reset_arguments_is_caught() -> None:
    class Lax(GuessEnv):
        def reset(self, seed: int | None = None, episode_id: str | None = None, **task: Any) -> GuessObs:
            return super().reset(seed, episode_id)

    assert _status(check_env(Lax, oracle=ORACLE), "error_codes") == "fail"


def test_a_bad_oracle_fails_oracle_max() -> None:
    bad = EnvOracle(act=lambda obs, hidden: {"guess": "nope"}, hidden=ORACLE.hidden, null=ORACLE.null)
    assert _status(check_env(GuessEnv, oracle=bad), "oracle_max") == "fail"


def test_episode_that_never_ends_is_caught() -> None:
    class Endless(GuessEnv):
        def step(self, action: GuessAction, timeout_s: float | None = None) -> GuessObs:
            obs = super().step(action, timeout_s)
            self._done = False
            obs.done = False
            return obs

    report = check_env(Endless, oracle=ORACLE, max_steps=3)
    assert _status(report, "step_contract") == "fail"


def test_step_count_that_does_not_advance_is_caught() -> None:
    class Frozen(GuessEnv):
        def step(self, action: GuessAction, timeout_s: float | None = None) -> GuessObs:
            obs = super().step(action, timeout_s)
            self._state.step_count = 0
            return obs

    report = check_env(Frozen, oracle=ORACLE)
    assert _status(report, "step_contract") == "fail" and "step_count" in str(report)


def test_null_from_schema_fills_required_fields() -> None:
    schema = {
        "properties": {"a": {"type": "string"}, "b": {"type": "boolean"}, "c": {"enum": ["x", "y"]}},
        "required": ["a", "b", "c"],
    }
    assert null_from_schema(schema) == {"a": "", "b": False, "c": "x"}


def test_instance_factory_and_bad_targets() -> None:
    assert check_env(GuessEnv(), oracle=ORACLE).ok
    assert check_env(lambda: GuessEnv(), oracle=ORACLE).ok
    with pytest.raises(TypeError, match="cannot drive"):
        check_env(42)
    with pytest.raises(ValueError, match="two seeds"):
        check_env(GuessEnv, seeds=(1,))


def test_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    from openenv_harness.checks.__main__ import main

    assert main(["arith", "--seeds", "0", "1"]) == 0
    out = capsys.readouterr().out
    assert "PASS  oracle_max" in out and "FAIL" not in out

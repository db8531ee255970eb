"""Env kwargs, reward weights and schedule targets are checked against the env before anything starts."""

import pytest

from openenv_harness.config import ConfigError, check_env_kwargs, check_run_config, compose_config
from openenv_harness.harness.train import run_train

BASE = ["env=arith", "policy=scripted", "learner=collect", "learner.max_steps=1"]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("env.kwargs.difficulty=abc", r"^env\.kwargs\.difficulty: 'abc' is not valid for env 'arith'"),
        (
            "+env.kwargs.bogus=1",
            r"^env\.kwargs\.bogus: env 'arith' takes no argument 'bogus' \(it takes: difficulty",
        ),
        ("+rubric.weights.bogus=1", r"^rubric\.weights\.bogus: not a reward component .*correct, format\)$"),
        ("+rubric.weights.format=-1", r"^rubric\.weights\.format: weights must be >= 0"),
        ("+rubric.overrides={weights:{x:1}}", r"^rubric\.overrides\.weights\.x: not a reward component"),
        (
            "+schedule.targets={weights.bogus:{kind:constant,value:1}}",
            r"^schedule\.targets\.weights\.bogus: ",
        ),
    ],
)
def test_mistakes_name_the_key(override: str, message: str) -> None:
    cfg = compose_config([*BASE, override])
    with pytest.raises(ConfigError, match=message):
        check_run_config(cfg)
    with pytest.raises(ConfigError, match=message):
        run_train(cfg)  # refused before any server starts (no provider is ever built)


def test_valid_configs_pass() -> None:
    for overrides in (
        [],
        ["env.kwargs.difficulty=3", "++rubric.weights.format=0.5", "rubric=no_format"],
        ["env=echo", "+rubric.weights.length=0.2"],
        ["env=coding"],
        ["env=arith", "rubric=judge", "++env.kwargs.attempts=2"],
    ):
        check_run_config(compose_config([*BASE, *overrides]))


def test_unknown_and_remote_envs_are_left_to_their_servers() -> None:
    check_env_kwargs("not-registered-here", {"anything": 1})
    cfg = compose_config([*BASE, "runtime=remote", "+env.kwargs.bogus=1"])
    check_run_config(cfg)  # remote servers were started with their own kwargs
    with pytest.raises(ConfigError, match=r"^mixture x: env\.kwargs"):
        check_run_config(compose_config([*BASE, "+env.kwargs.bogus=1"]), "mixture x: ")

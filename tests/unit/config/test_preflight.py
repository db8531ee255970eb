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


@pytest.mark.parametrize(
    ("env", "override", "message"),
    [
        (
            "arith",
            "++env.kwargs.attempts=11",
            r"^env\.kwargs\.attempts: 11 is not valid for env 'arith' \(.*less than or equal to 10",
        ),
        (
            "arith",
            "++env.kwargs.difficulty=6",
            r"^env\.kwargs\.difficulty: 6 is not valid .*less than or equal to 5",
        ),
        ("arith", "++env.kwargs.tolerance=-1", r"^env\.kwargs\.tolerance: -1 is not valid"),
        (
            "coding",
            "++env.kwargs.sandbox=docker",
            r"^env\.kwargs\.sandbox: 'docker' is not valid .*'bwrap' or 'none'",
        ),
        ("coding", "++env.kwargs.max_turns=0", r"^env\.kwargs\.max_turns: 0 is not valid"),
        ("coding", "++env.kwargs.wall_s=0", r"^env\.kwargs\.wall_s: 0 is not valid .*greater than 0"),
        ("coding", "++env.kwargs.disk_mb=-5", r"^env\.kwargs\.disk_mb: -5 is not valid"),
        ("echo", "++env.kwargs.max_steps=0", r"^env\.kwargs\.max_steps: 0 is not valid for env 'echo'"),
        ("echo", "++env.kwargs.step_delay_s=-1", r"^env\.kwargs\.step_delay_s: -1 is not valid"),
        ("support", "++env.kwargs.max_steps=0", r"^env\.kwargs\.max_steps: 0 is not valid for env 'support'"),
        ("support", "++env.kwargs.user={kind:robot}", r"^env\.kwargs\.user\.kind: 'robot' is not valid"),
        (
            "support",
            "++env.kwargs.user={temperature:hot}",
            r"^env\.kwargs\.user\.temperature: 'hot' is not valid",
        ),
        ("support", "++env.kwargs.user={tempreature:0}", r"^env\.kwargs\.user\.tempreature: "),
        ("tools", "++env.kwargs.max_rows=0", r"^env\.kwargs\.max_rows: 0 is not valid for env 'tools'"),
        ("tools", "++env.kwargs.max_tool_calls=-1", r"^env\.kwargs\.max_tool_calls: -1 is not valid"),
        ("wordle", "++env.kwargs.max_turns=0", r"^env\.kwargs\.max_turns: 0 is not valid for env 'wordle'"),
    ],
)
def test_out_of_range_values_of_every_shipped_env(env: str, override: str, message: str) -> None:
    """Each shipped env declares its bounds in its constructor; the same declaration refuses direct use."""
    cfg = compose_config([*BASE, f"env={env}", override])
    with pytest.raises(ConfigError, match=message):
        check_run_config(cfg)
    from omegaconf import OmegaConf

    from openenv_harness.config._preflight import env_class

    cls = env_class(env)
    assert cls is not None
    with pytest.raises(ValueError, match=message.replace(r"^env\.kwargs\.", "^").split(" is not")[0]):
        cls(**OmegaConf.to_container(cfg.env.kwargs))  # type: ignore[arg-type]

"""Every conf/rubric/*.yaml composes with the harness schema, yields a valid POST /config body and builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from openenv_harness.config._compose import compose_config
from openenv_harness.rubric import Rubric, build_rubric, config_update
from openenv_harness.spec import ConfigHolder

RUBRICS = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "conf" / "rubric").glob("*.yaml"))


def test_default_means_the_envs_own_rubric_and_weights() -> None:
    cfg = compose_config(["rubric=default"])
    assert cfg.rubric.name == "default" and config_update(cfg.rubric) == {}


@pytest.mark.parametrize("name", RUBRICS)
def test_rubric_group_composes_and_builds(name: str) -> None:
    cfg = compose_config([f"rubric={name}"]).rubric
    update = config_update(cfg)
    assert set(update) <= {"weights"} | set(cfg.overrides)
    if cfg.get("_target_"):
        rubric = build_rubric(cfg)
        assert isinstance(rubric, Rubric)
        assert set(cfg.weights) <= set(rubric.reward_components())


def test_arith_weights_are_accepted_by_the_arith_env_config() -> None:
    from envs.arith.models import ArithConfig

    snap = ConfigHolder(ArithConfig).update(config_update(compose_config(["rubric=arith"]).rubric))
    assert snap["config"]["weights"] == {"correct": 1.0, "format": 0.2}
    snap = ConfigHolder(ArithConfig).update(config_update(compose_config(["rubric=no_format"]).rubric))
    assert snap["config"]["weights"]["format"] == 0.0


def test_command_line_override_of_a_weight() -> None:
    cfg = compose_config(["rubric=arith", "rubric.weights.format=0.05"]).rubric
    assert config_update(cfg)["weights"] == {"correct": 1.0, "format": 0.05}


def test_arith_rubric_from_config_rescores_env_observations_exactly() -> None:
    """Offline re-scoring: the conf/rubric/arith.yaml tree gives the env's own components and rewards."""
    from envs.arith import oracle
    from openenv_harness.runtime import InProcessProvider

    cfg = compose_config(["rubric=arith"]).rubric
    rubric = build_rubric(cfg)
    with InProcessProvider("arith") as provider:
        provider.push_config(config_update(cfg))
        env = provider.client()
        for seed, answer in [(1, None), (2, "I think it is 12"), (3, "")]:
            env.reset(seed=seed)
            truth = oracle.hidden(seed)
            text = truth["answer"] if answer is None else answer
            obs = env.step({"answer": text})
            rubric.reset(context={"answer": float(truth["answer"])})
            offline = rubric.score({"answer": text}, None, weights=obs.metadata["reward_weights"])
            assert offline.components == obs.metadata["reward_components"]
            assert offline.reward == obs.reward
        env.close()

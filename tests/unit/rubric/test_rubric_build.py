from dataclasses import dataclass

import pytest
from omegaconf import OmegaConf

from openenv_harness.rubric import (
    RewardConfig,
    RubricError,
    WeightedSum,
    build_rubric,
    check_reward_config,
    config_update,
)
from openenv_harness.rubric._containers import Gate


def test_build_tree_from_yaml_with_nested_children():
    cfg = OmegaConf.create(
        """
        _target_: openenv_harness.rubric.WeightedSum
        weights: {gate: 2.0}
        normalize: true
        children:
          gate:
            _target_: openenv_harness.rubric.Gate
            threshold: 0.5
            rubric: {_target_: openenv_harness.rubric.WeightedSum}
        """
    )
    r = build_rubric(cfg)
    assert isinstance(r, WeightedSum) and isinstance(r.gate, Gate)
    assert r.config.normalize and r.gate.config.threshold == 0.5
    assert [n for n, _ in r.named_rubrics()] == ["gate", "gate.rubric"]


def test_group_shape_builds_from_target_and_params():
    r = build_rubric(
        {
            "name": "x",
            "_target_": "openenv_harness.rubric.Gate",
            "weights": {},
            "params": {"rubric": {"_target_": "openenv_harness.rubric.WeightedSum"}, "threshold": 0.1},
        }
    )
    assert isinstance(r, Gate) and r.config.threshold == 0.1
    with pytest.raises(RubricError, match="selects the env's own rubric"):
        build_rubric({"name": "default", "weights": {}, "params": {}})


def test_disallowed_targets_are_refused_before_import():
    with pytest.raises(RubricError, match=r"children.evil._target_: refusing to import 'os.system'"):
        build_rubric(
            {
                "_target_": "openenv_harness.rubric.WeightedSum",
                "children": {"evil": {"_target_": "os.system"}},
            }
        )
    with pytest.raises(RubricError, match="not a Rubric"):
        build_rubric({"_target_": "openenv_harness.rubric.RewardConfig"})
    with pytest.raises(RubricError, match="cannot build rubric"):
        build_rubric({"_target_": "openenv_harness.rubric.WeightedSum", "weights": {"x": -1.0}})
    with pytest.raises(RubricError, match="cannot build rubric"):
        build_rubric({"_target_": "rubrics.does_not_exist.Nope"})


def test_config_update_merges_weights_into_overrides():
    assert config_update({"name": "default", "weights": {}, "overrides": {}}) == {}
    assert config_update(
        OmegaConf.create({"name": "a", "weights": {"format": 0.0}, "overrides": {"max_len": 3}})
    ) == {
        "max_len": 3,
        "weights": {"format": 0.0},
    }
    assert config_update({"weights": {"b": 2.0}, "overrides": {"weights": {"a": 1.0}}}) == {
        "weights": {"a": 1.0, "b": 2.0}
    }


def test_check_reward_config_names_mismatches():
    @dataclass
    class Cfg(RewardConfig):
        weights: dict = None  # type: ignore[assignment]

    rubric = WeightedSum({"a": WeightedSum(), "b": WeightedSum()})
    check_reward_config(Cfg(weights={"a": 1.0, "b": 0.0}), rubric)
    with pytest.raises(RubricError, match=r"missing \['b'\], unknown \['c'\]"):
        check_reward_config(Cfg(weights={"a": 1.0, "c": 1.0}), rubric)

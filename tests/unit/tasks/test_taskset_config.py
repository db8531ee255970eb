"""TasksetConfig: the conf/taskset/*.yaml files compose against the schema and name resolvable tasksets."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf
from omegaconf.errors import ValidationError

from openenv_harness.tasks import SequentialSampler, TasksetConfig, TaskSource, make_sampler, sampler_for

CONF = Path(__file__).resolve().parents[3] / "conf" / "taskset"


@pytest.mark.parametrize("name", ["arith", "humaneval"])
def test_shipped_taskset_configs(name: str) -> None:
    cfg = OmegaConf.merge(OmegaConf.structured(TasksetConfig), OmegaConf.load(CONF / f"{name}.yaml"))
    obj: TasksetConfig = OmegaConf.to_object(cfg)  # type: ignore[assignment]
    assert obj.trust_remote_code is False and obj.ref is not None
    src = TaskSource(obj.ref, default_split=obj.split)
    assert obj.eval_split in src.taskset.splits
    sampler = make_sampler(obj.sampler, src.num_rows(obj.split), obj.split, obj.seed)
    draw = next(sampler)
    assert src.select(**draw.reset_kwargs()).index == draw.index


def test_bad_override_is_a_type_error() -> None:
    cfg = OmegaConf.structured(TasksetConfig)
    with pytest.raises(ValidationError):
        cfg.limit = "many"
    with pytest.raises(ValidationError):
        cfg.trust_remote_code = "maybe"


def test_sampler_for_config() -> None:
    cfg = TasksetConfig(ref="tasksets/arith", sampler="curriculum", limit=5, seed=7)
    train = sampler_for(cfg, 461)
    assert (train.kind, train.num_rows, train.split) == ("curriculum", 5, "train")
    ev = sampler_for(cfg, 100, evaluation=True)
    assert isinstance(ev, SequentialSampler)
    assert [(d.split, d.index, d.seed) for d in ev] == [("test", i, 7 + i) for i in range(5)]


def test_default_is_no_taskset() -> None:
    assert TasksetConfig().ref is None  # `taskset: null`: the env generates its own tasks

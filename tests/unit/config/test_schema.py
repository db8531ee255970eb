import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, ValidationError

from openenv_harness.config import Config, LearnerKind, Mode, PolicyKind, compose_config


def test_default_composes_typed():
    cfg = compose_config(["env=echo", "schedule=none"])
    assert cfg.mode == Mode.train
    assert cfg.policy.kind == PolicyKind.hf
    assert cfg.learner.kind == LearnerKind.grpo
    assert OmegaConf.get_type(cfg, "learner").__name__ == "LearnerConfig"


def test_schedule_defaults_to_the_envs_own():
    cfg = compose_config(["env=echo"])
    assert list(cfg.schedule.targets) == ["weights.length"]
    assert cfg.schedule.targets["weights.length"].kind.value == "linear"


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("learner.max_steps=abc", "learner.max_steps"),
        ("learner.maxsteps=3", "maxsteps"),
        ("mode=bogus", "mode"),
        ("policy.kind=gpt", "policy.kind"),
        ("runtime.sessions=1.5", "runtime.sessions"),
    ],
)
def test_bad_override_names_the_key(override: str, key: str):
    with pytest.raises(ConfigCompositionException) as err:
        compose_config(["env=echo", override])
    text = str(err.value) + str(err.value.__cause__)
    assert key in text


def test_schedule_target_is_typed():
    base = OmegaConf.structured(Config)
    with pytest.raises(ConfigKeyError, match="strt"):
        OmegaConf.merge(base, {"schedule": {"targets": {"weights.format": {"kind": "linear", "strt": 1}}}})
    with pytest.raises(ValidationError, match="kind"):
        OmegaConf.merge(base, {"schedule": {"targets": {"weights.format": {"kind": "sawtooth"}}}})


def test_dict_override_of_schedule_targets():
    cfg = compose_config(
        [
            "env=echo",
            "schedule=none",
            "+schedule.targets={weights.length:{kind:cosine,start:1,end:0,steps:4}}",
        ]
    )
    assert cfg.schedule.targets["weights.length"].steps == 4

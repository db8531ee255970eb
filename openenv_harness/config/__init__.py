"""Config schemas of the harness and their registration in Hydra's ConfigStore."""

from ._compose import compose_config
from ._schema import (
    Config,
    CreditKind,
    EnvConfig,
    EvalConfig,
    ExperimentConfig,
    LearnerConfig,
    LearnerKind,
    LoggerConfig,
    MixtureEntry,
    Mode,
    PolicyConfig,
    PolicyKind,
    RubricConfig,
    RuntimeConfig,
    ScheduleConfig,
    ScheduleKind,
    ScheduleSpec,
    ServerConfig,
)
from ._store import GROUP_SCHEMAS, register_configs
from ._taskset import TasksetConfig

__all__ = [
    "GROUP_SCHEMAS",
    "Config",
    "EnvConfig",
    "EvalConfig",
    "ExperimentConfig",
    "LearnerConfig",
    "CreditKind",
    "LearnerKind",
    "LoggerConfig",
    "MixtureEntry",
    "Mode",
    "PolicyConfig",
    "PolicyKind",
    "RubricConfig",
    "RuntimeConfig",
    "ScheduleConfig",
    "ScheduleKind",
    "ScheduleSpec",
    "ServerConfig",
    "TasksetConfig",
    "compose_config",
    "register_configs",
]

"""Config schemas of the harness and their registration in Hydra's ConfigStore."""

from ._compose import compose_config
from ._preflight import check_env_kwargs, check_reward_update, check_run_config
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
from ._secrets import REDACTED, ConfigError, apply_secrets, redact, redacted_yaml, resolve_token
from ._store import GROUP_SCHEMAS, register_configs
from ._taskset import TasksetConfig

__all__ = [
    "GROUP_SCHEMAS",
    "REDACTED",
    "Config",
    "ConfigError",
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
    "apply_secrets",
    "check_env_kwargs",
    "check_reward_update",
    "check_run_config",
    "compose_config",
    "redact",
    "redacted_yaml",
    "register_configs",
    "resolve_token",
]

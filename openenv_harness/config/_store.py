"""Registration of the schemas in Hydra's ConfigStore.

The root schema is stored as ``base_config`` and is the first entry of ``conf/config.yaml``'s defaults list, so
every group YAML merges into a typed node and a wrong key or type fails at composition, naming the key.
(Group schemas are not stored as selectable options, so ``env=`` lists only real environments.)
"""

from __future__ import annotations

from hydra.core.config_store import ConfigStore

from ._schema import (
    Config,
    EnvConfig,
    EvalConfig,
    ExperimentConfig,
    LearnerConfig,
    LoggerConfig,
    PolicyConfig,
    RubricConfig,
    RuntimeConfig,
    ScheduleConfig,
    ServerConfig,
)
from ._taskset import TasksetConfig

GROUP_SCHEMAS: dict[str, type] = {
    "env": EnvConfig,
    "rubric": RubricConfig,
    "schedule": ScheduleConfig,
    "taskset": TasksetConfig,
    "policy": PolicyConfig,
    "learner": LearnerConfig,
    "runtime": RuntimeConfig,
    "eval": EvalConfig,
    "logger": LoggerConfig,
    "experiment": ExperimentConfig,
    "server": ServerConfig,
}
"""Config group -> dataclass schema."""

_registered = False


def register_configs() -> None:
    """Store the root schema as ``base_config``; idempotent."""
    global _registered
    if _registered:
        return
    cs = ConfigStore.instance()
    cs.store(name="base_config", node=Config)
    _registered = True

"""Wire and API types of openenv_harness: the environment contract every other part builds on."""

from ._config import ConfigHolder
from ._env import Environment, EnvMetadata
from ._errors import EnvError, ErrorCode
from ._kwargs import InitKwargError, check_init_kwargs, validated_init
from ._registry import (
    ALLOWED_TARGET_PREFIXES,
    RESERVED_TOOL_NAMES,
    EnvSpec,
    check_target,
    load_entry_point,
    make,
    register,
    registered,
    spec,
)
from ._targets import allow_target, resolve_target
from ._types import (
    Action,
    GenericAction,
    GenericObservation,
    Observation,
    State,
    observation_from_wire,
    observation_to_wire,
)

__all__ = [
    "ALLOWED_TARGET_PREFIXES",
    "RESERVED_TOOL_NAMES",
    "Action",
    "ConfigHolder",
    "EnvError",
    "EnvMetadata",
    "EnvSpec",
    "Environment",
    "ErrorCode",
    "GenericAction",
    "GenericObservation",
    "InitKwargError",
    "Observation",
    "State",
    "allow_target",
    "check_init_kwargs",
    "check_target",
    "load_entry_point",
    "make",
    "observation_from_wire",
    "observation_to_wire",
    "register",
    "registered",
    "resolve_target",
    "spec",
    "validated_init",
]

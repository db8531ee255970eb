"""openenv_harness: environments, rubrics, tasksets and a Hydra harness for LLM agents.

The top-level package re-exports the environment contract; heavier parts (server, client, runtime, rubric,
tasks, harness) are imported from their subpackages so that ``import openenv_harness`` stays cheap.
"""

from .spec import (
    Action,
    EnvError,
    Environment,
    ErrorCode,
    Observation,
    State,
    make,
    register,
    registered,
)

__version__ = "0.1.0"

__all__ = [
    "Action",
    "EnvError",
    "Environment",
    "ErrorCode",
    "Observation",
    "State",
    "__version__",
    "make",
    "register",
    "registered",
]

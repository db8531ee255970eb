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


def __getattr__(name: str) -> object:
    # check_env is public API at the top level but imported lazily, so `import openenv_harness` stays cheap.
    if name == "check_env":
        from .checks import check_env

        return check_env
    raise AttributeError(f"module 'openenv_harness' has no attribute {name!r}")


__all__ = [
    "Action",
    "EnvError",
    "Environment",
    "ErrorCode",
    "Observation",
    "State",
    "__version__",
    "check_env",
    "make",
    "register",
    "registered",
]

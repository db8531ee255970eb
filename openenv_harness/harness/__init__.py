"""The harness: train and eval loops over env servers, policies, schedules, learners and run outputs.

``python -m openenv_harness`` (see :mod:`openenv_harness.cli`) drives it; the functions here are pure and
take a composed config, so they are usable from Python too.
"""

from .adapters import EnvAdapter, adapter_for
from .policies import HFPolicy, OpenAIPolicy, Policy, PolicyError, ScriptedPolicy, make_policy
from .records import RunLogger, RunRecord, read_scalars
from .rollout import Episode, Task, Turn, run_episodes, score_actions, summarize
from .runtime import EnvRuntime, LoopThread
from .schedules import Schedule, ScheduleError, evaluate_targets, make_schedule, make_schedules, nest
from .train import run_train

__all__ = [
    "EnvAdapter",
    "EnvRuntime",
    "Episode",
    "HFPolicy",
    "LoopThread",
    "OpenAIPolicy",
    "Policy",
    "PolicyError",
    "RunLogger",
    "RunRecord",
    "Schedule",
    "ScheduleError",
    "ScriptedPolicy",
    "Task",
    "Turn",
    "adapter_for",
    "evaluate_targets",
    "make_policy",
    "make_schedule",
    "make_schedules",
    "nest",
    "read_scalars",
    "run_episodes",
    "run_train",
    "score_actions",
    "summarize",
]

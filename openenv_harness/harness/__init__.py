"""The harness: the train loop and its learners (``collect``, ``grpo``), schedules, and run outputs.

``python -m openenv_harness`` (see :mod:`openenv_harness.cli`) drives it; the functions here are pure and
take a composed config, so they are usable from Python too. Episodes, policies, adapters and env servers
live one layer down, in :mod:`openenv_harness.rollout`, shared with :mod:`openenv_harness.evals`.
"""

from .metrics import step_metrics
from .records import RunLogger, RunRecord, read_scalars
from .schedules import Schedule, ScheduleError, evaluate_targets, make_schedule, make_schedules, nest
from .train import TrainContext, run_train

__all__ = [
    "RunLogger",
    "RunRecord",
    "Schedule",
    "ScheduleError",
    "TrainContext",
    "evaluate_targets",
    "make_schedule",
    "make_schedules",
    "nest",
    "read_scalars",
    "run_train",
    "step_metrics",
]

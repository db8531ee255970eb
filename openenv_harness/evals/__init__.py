"""Eval suites and reproducible eval bundles that ship next to a model.

A bundle directory holds ``suite.yaml``, ``config.yaml`` (resolved Hydra config), ``manifest.json``
(versions and content hashes), ``episodes.jsonl`` (one record per episode), ``results.json`` and
``report.html`` (+ ``plots/``). ``mode=eval`` writes one, ``mode=verify`` re-runs one and compares.
"""

from ._metrics import aggregate, mean_stderr, pass_at_k
from ._records import EpisodeLog, episode_key
from ._runner import EvalError, execute, run_eval, run_verify, suite_from_cfg
from ._suite import EvalSpec, Suite, stable_hash
from ._tasks import EvalTask, TaskList, tasks_for
from ._verify import Difference, compare, format_table

__all__ = [
    "Difference",
    "EpisodeLog",
    "EvalError",
    "EvalSpec",
    "EvalTask",
    "Suite",
    "TaskList",
    "aggregate",
    "compare",
    "episode_key",
    "execute",
    "format_table",
    "mean_stderr",
    "pass_at_k",
    "run_eval",
    "run_verify",
    "stable_hash",
    "suite_from_cfg",
    "tasks_for",
]

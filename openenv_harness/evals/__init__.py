"""Eval suites and reproducible eval bundles that ship next to a model.

A bundle directory holds ``suite.yaml``, ``config.yaml`` (resolved Hydra config), ``manifest.json``
(versions and content hashes), ``episodes.jsonl`` (one record per episode), ``results.json`` and
``report.html`` (+ ``plots/``). ``mode=eval`` writes one, ``mode=verify`` re-runs one and compares.
"""

from ._metrics import aggregate, mean_stderr, pass_at_k
from ._records import EpisodeLog, episode_key
from ._suite import EvalSpec, Suite, stable_hash
from ._verify import Difference, compare, format_table

__all__ = [
    "Difference",
    "EpisodeLog",
    "EvalSpec",
    "Suite",
    "aggregate",
    "compare",
    "episode_key",
    "format_table",
    "mean_stderr",
    "pass_at_k",
    "stable_hash",
]

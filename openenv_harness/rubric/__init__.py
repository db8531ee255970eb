"""Rubrics: composable rewards computed inside the environment, with weights the trainer steers.

The environment owns rubric code and its reward-config schema; training infrastructure owns the values.

Building blocks:

* :class:`Rubric` — a callable ``rubric(action, observation) -> float`` configured by a ``Config`` dataclass;
  ``forward`` may be sync or ``async def`` (``await rubric.acall(...)``); children assigned as attributes are
  registered with dotted names (``named_rubrics()``); ``reset(context=...)`` starts an episode and hands the
  tree its ground truth (never put on observations); ``state_dict()`` / ``load_state_dict()``.
* Containers: :class:`WeightedSum`, :class:`Sequential` / :class:`Gate` (fail-fast), :class:`RubricDict`,
  :class:`RubricList`; :class:`TrajectoryRubric` scores at episode end with discounted per-step credit and
  handles truncation (``finish(truncated=True)``). :class:`JudgeRubric` asks an OpenAI-compatible model,
  :class:`McpToolRubric` calls a tool of an MCP server; both report failures as errors, never as 0.

How an environment reports a step (decisions):

* ``result = self.rubric.score(action, obs, weights=self.reward_config.weights)`` evaluates the root's
  **components** (the children of a root ``WeightedSum``, else the root itself named after its class), then
  ``obs.reward = result.reward`` and ``obs.metadata.update(self.base_metadata(), **result.to_metadata())``:
  ``reward_components`` (raw, unweighted, dotted names, nested ones as diagnostics), ``reward_weights``,
  ``reward_errors`` (only when something failed), ``reward_normalized`` (only when true) and ``config_version``.
* The reward is :func:`combine` of the components and weights: sorted names, ``total += w * c``, optional
  division by the weight sum. Recomputing it from stored metadata gives exactly the same float.
* A failing component (exception, unreachable judge, NaN) is reported in ``reward_errors`` and is absent from
  ``reward_components``; it is never scored 0. If its weight is non-zero the reward is ``None`` (or the env's
  ``error_reward``): the trainer masks that sample. With weight 0 it does not matter.
* Empty containers score 0.0; all-zero weights give 0.0 (also with normalisation).

Config (Hydra): ``conf/rubric/<name>.yaml`` follows ``openenv_harness.config.RubricConfig``:
``{name, weights, overrides, _target_, params}``. ``rubric=default`` is ``{name: default, weights: {}}``: the
env's own rubric with its default weights. ``weights``/``overrides`` become the ``POST /config`` body
(:func:`config_update`), applied by every env server at each session's next reset. ``_target_`` + ``params``
describe a rubric tree that :func:`build_rubric` instantiates after checking every ``_target_`` against the
allow-list. Env reward configs subclass :class:`RewardConfig` (``schema_version`` + ``weights``).

Trainer side: :class:`RewardNormalizer` (per-env running mean/std, min-max, percentile; checkpointable),
:class:`RewardLogger` (TensorBoard scalars per component, weight, total) and :class:`RewardComposer`
(offline re-weighting + per-env normalisation + logging of a batch, failed steps kept as None).
"""

from ._base import Rubric
from ._build import RewardConfig, build_rubric, check_reward_config, config_update
from ._composer import RewardComposer
from ._config import RubricConfig, RubricError
from ._containers import Gate, RubricDict, RubricList, Sequential, WeightedSum
from ._judge import JudgeError, JudgeRubric
from ._logger import RewardLogger
from ._mcp_judge import McpToolRubric, describe_judges
from ._normalizer import RewardNormalizer
from ._override import RUBRIC_KWARG, RubricOverride, install_rubric, rubric_tree
from ._result import RewardResult, as_result, combine
from ._sync import run_sync
from ._text import action_text
from ._trajectory import Step, TrajectoryResult, TrajectoryRubric, trajectory_credits

__all__ = [
    "RUBRIC_KWARG",
    "RubricOverride",
    "Gate",
    "JudgeError",
    "JudgeRubric",
    "McpToolRubric",
    "RewardComposer",
    "RewardConfig",
    "RewardLogger",
    "RewardNormalizer",
    "RewardResult",
    "Rubric",
    "RubricConfig",
    "RubricDict",
    "RubricError",
    "RubricList",
    "Sequential",
    "Step",
    "TrajectoryResult",
    "TrajectoryRubric",
    "WeightedSum",
    "action_text",
    "as_result",
    "build_rubric",
    "install_rubric",
    "rubric_tree",
    "check_reward_config",
    "combine",
    "config_update",
    "describe_judges",
    "run_sync",
    "trajectory_credits",
]

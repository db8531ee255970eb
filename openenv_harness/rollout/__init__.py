"""The rollout layer: env servers for a run, policies, env adapters and the multi-turn episode engine.

It sits below both :mod:`openenv_harness.harness` (training) and :mod:`openenv_harness.evals` (suites and
bundles), which use it and never each other's internals.

* :class:`EnvRuntime` — starts env servers through a provider and owns a pool of sessions.
* :class:`Policy` (:class:`HFPolicy`, :class:`OpenAIPolicy`, :class:`ScriptedPolicy`), :func:`make_policy`.
* :class:`EnvAdapter` — an env's text interface, declared by the env (``envs/<name>/adapter.py``) or built
  from its ``/schema`` (:class:`GenericAdapter`); :func:`adapter_for` finds it.
* :func:`run_episodes` — multi-turn episodes, concurrent over the pool; :class:`Episode` records how each
  ended (scored, invalid action, or error — an error is never a zero).
"""

from ._adapter import EnvAdapter, Scripted, TextAdapter, adapter_for, declared_adapter
from ._engine import EngineStats, first_observations, initial_chat, probe_determinism, run_episodes
from ._foreign import ServerInfo, action_schema_of, is_registered, probe_server, seed_behaviour
from ._generic import GenericAdapter, first_string_field
from ._hf import HFPolicy
from ._model_cache import EMBEDDED_MODEL, embedded_model_path, resolve_model_path
from ._policies import Chat, OpenAIPolicy, Policy, PolicyError, ScriptedPolicy, make_policy
from ._runtime import EnvRuntime, LoopThread, make_provider
from ._summary import Throughput, summarize
from ._tools import ToolSpec, list_tools, tools_of
from ._types import POLICY_FAULTS, Episode, Task, TokenTrace, Turn, obs_fields, turn_from_obs

__all__ = [
    "EMBEDDED_MODEL",
    "POLICY_FAULTS",
    "Chat",
    "EngineStats",
    "EnvAdapter",
    "EnvRuntime",
    "Episode",
    "GenericAdapter",
    "HFPolicy",
    "LoopThread",
    "OpenAIPolicy",
    "Policy",
    "PolicyError",
    "Scripted",
    "ScriptedPolicy",
    "ServerInfo",
    "Task",
    "TextAdapter",
    "TokenTrace",
    "ToolSpec",
    "Turn",
    "Throughput",
    "action_schema_of",
    "adapter_for",
    "declared_adapter",
    "embedded_model_path",
    "first_observations",
    "first_string_field",
    "initial_chat",
    "is_registered",
    "list_tools",
    "make_policy",
    "make_provider",
    "obs_fields",
    "probe_determinism",
    "probe_server",
    "resolve_model_path",
    "run_episodes",
    "seed_behaviour",
    "summarize",
    "tools_of",
    "turn_from_obs",
]

"""``check_env``: does an environment keep the contract (DESIGN.md §2-4)?

Checks, in order (each one pass / fail / skip with a reason):

``schemas``           action, observation and state JSON schemas are served.
``reset_contract``    reset returns the env's observation type, not done, with dict metadata carrying
                      ``config_version``; ``state`` has an episode id and step count 0.
``seed_determinism``  the same seed gives the same first observation (on a fresh instance/session when the
                      target can make one); different seeds are not all identical. Skipped when the env
                      declares ``seed_honoured: false``.
``wire_roundtrip``    every observation seen survives ``observation_to_wire`` -> JSON -> ``from_wire``,
                      and every action sent survives ``model_validate`` -> JSON -> ``model_validate``.
``step_contract``     steps return a finite float reward (or None) and a bool ``done``; ``state().step_count``
                      advances by one per step; the episode ends within ``max_steps``.
``reward_metadata``   a rewarded observation carries ``reward_components`` and ``reward_weights`` whose
                      weighted sum is the reward (so any re-weighting can be recomputed offline).
``no_ground_truth``   no hidden value (from the oracle's ``hidden``) appears in any observation of a
                      rollout, metadata included. Values shorter than 8 characters are matched as whole
                      tokens, longer ones as substrings, and every line of 40+ characters of a multi-line
                      value on its own. The oracle's own actions may of course contain ground truth; fields
                      that echo the agent's action back are not ground truth leaks, so observations are
                      scanned from the reset and from the null policy's rollouts.
``oracle_max``        the oracle's episode return reaches the maximum reward.
``null_below``        a do-nothing policy's return stays at most ``(1 - margin) * max``.
``error_codes``       a step before reset is ``NOT_RESET`` (``EPISODE_DONE`` accepted from a bare env),
                      an unknown action field is ``VALIDATION_ERROR``, an unknown reset argument is
                      ``VALIDATION_ERROR``, a step after the end is ``EPISODE_DONE``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from ..spec import EnvError
from ._contract import (
    check_errors,
    check_ground_truth,
    check_reset_and_seeds,
    check_rewards,
    check_steps,
    check_wire,
)
from ._episodes import rollout
from ._oracle import EnvOracle, null_from_schema
from ._report import CheckReport
from ._target import Target


def check_env(
    target: Any,
    *,
    oracle: EnvOracle | ModuleType | str | None = None,
    null_policy: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    reset_kwargs: dict[str, Any] | None = None,
    max_steps: int = 50,
    max_reward: float | None = None,
    margin: float = 0.5,
) -> CheckReport:
    """Check that an environment keeps the contract; see the module docstring for every check.

    Args:
        target: An Environment instance, class or zero-argument factory; a provider with ``client()``
            (``InProcessProvider``, ``LocalProcessProvider``: the env as served); or a client.
        oracle: The env's reference policies (an :class:`EnvOracle`, or a module / dotted module path with
            ``oracle_action``, ``hidden``, ``null_action``). Without it, ``oracle_max``, ``null_below`` and
            ``no_ground_truth`` are skipped.
        null_policy: Do-nothing policy (default: the oracle's ``null``, else zero values from the action
            schema).
        seeds: Seeds of the checked episodes (at least two).
        reset_kwargs: Extra reset arguments for every checked episode (added to the oracle's).
        max_steps: Step budget per episode (an episode must end within it).
        max_reward: The maximum episode return (default: the oracle's, else the sum of the final
            observation's ``reward_weights``).
        margin: The null policy must stay at or below ``(1 - margin) * max_reward``.

    Returns:
        A :class:`CheckReport`; call ``raise_for_failures()`` to turn failures into an exception.
    """
    if len(seeds) < 2:
        raise ValueError("check_env needs at least two seeds")
    if oracle is not None and not isinstance(oracle, EnvOracle):
        oracle = EnvOracle.from_module(oracle)
    tgt = Target(target)
    report = CheckReport(tgt.description)
    kwargs = {**(oracle.reset_kwargs if oracle else {}), **(reset_kwargs or {})}

    # schemas
    try:
        schemas = tgt.schemas()
        missing = [k for k in ("action", "observation", "state") if not isinstance(schemas.get(k), dict)]
        report.add("schemas", "fail" if missing else "pass", f"missing {missing}" if missing else "")
    except Exception as exc:  # noqa: BLE001
        schemas = {}
        report.add("schemas", "fail", f"{type(exc).__name__}: {exc}")
    if null_policy is None:
        if oracle is not None and oracle.null is not None:
            null_policy = oracle.null
        else:
            null_action = null_from_schema(schemas.get("action", {}))
            null_policy = lambda obs: dict(null_action)  # noqa: E731

    check_errors(tgt, report, seeds[0], kwargs, null_policy)
    session = tgt.session()
    try:
        check_reset_and_seeds(tgt, session, report, seeds, kwargs)
        nulls = {}
        problems: list[str] = []
        for seed in seeds:
            try:
                nulls[seed] = rollout(session, seed, kwargs, null_policy, max_steps)
            except EnvError as exc:
                problems.append(f"seed {seed}: null policy episode raised {exc}")
        check_steps(report, nulls, problems, max_steps)
        oracles = {}
        if oracle is not None:
            for seed in seeds:
                hidden = oracle.hidden(seed, **kwargs) if oracle.hidden else {}
                policy = lambda obs, h=hidden: oracle.act(obs, h)  # noqa: E731
                try:
                    oracles[seed] = rollout(session, seed, kwargs, policy, max_steps)
                except EnvError as exc:
                    problems.append(f"seed {seed}: oracle episode raised {exc}")
        check_wire(report, [*nulls.values(), *oracles.values()], session)
        check_ground_truth(report, oracle, nulls, kwargs)
        check_rewards(report, oracle, nulls, oracles, max_reward, margin)
    finally:
        session.close()
    return report

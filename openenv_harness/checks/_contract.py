"""The individual checks of ``check_env`` (see :mod:`._check` for what each one asserts)."""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from ..rubric import combine
from ..spec import EnvError, Observation, observation_from_wire, observation_to_wire
from ._episodes import Rollout, obs_dict
from ._oracle import EnvOracle
from ._report import CheckReport
from ._target import Session, Target

_VOLATILE_META = {"duration_s", "timings", "episode_id", "session_id", "elapsed_s"}


def _first_obs_key(obs: Observation) -> str:
    """The parts of a first observation a seed must determine (fields and non-volatile metadata)."""
    fields = obs.model_dump(mode="json", exclude={"metadata"})
    meta = {k: v for k, v in obs.metadata.items() if k not in _VOLATILE_META}
    return json.dumps({"fields": fields, "metadata": meta}, sort_keys=True, default=str)


def _leaks(hidden: dict[str, Any], text: str) -> list[str]:
    found = []
    for key, value in hidden.items():
        if value is None:
            continue
        sval = value if isinstance(value, str) else json.dumps(value)
        sval = sval.strip()
        if not sval:
            continue
        if len(sval) < 8:
            if re.search(r"(?<![\w.])" + re.escape(sval) + r"(?![\w]|\.\d)", text):
                found.append(key)
            continue
        if sval in text or any(
            len(line.strip()) >= 40 and line.strip() in text for line in sval.splitlines()
        ):
            found.append(key)
    return found


def _expect_error(fn: Callable[[], Any], codes: set[str]) -> str | None:
    """None when ``fn`` raises an EnvError with one of ``codes``, else what happened instead."""
    try:
        fn()
    except EnvError as exc:
        if str(exc.code) in codes:
            return None
        return f"raised {exc.code} ({exc.message[:120]}), expected {' or '.join(sorted(codes))}"
    except Exception as exc:  # noqa: BLE001 - any other exception is exactly what the check reports
        return f"raised {type(exc).__name__}: {str(exc)[:120]} instead of an EnvError"
    return "no error"


def check_errors(
    tgt: Target,
    report: CheckReport,
    seed: int,
    kwargs: dict[str, Any],
    null_policy: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    problems = []
    session = tgt.session()
    try:
        if tgt.fresh:
            why = _expect_error(lambda: session.step(null_policy({})), {"NOT_RESET", "EPISODE_DONE"})
            if why:
                problems.append(f"step before reset {why}")
        obs = session.reset(seed, **kwargs)
        why = _expect_error(lambda: session.step({"__not_a_field__": 1}), {"VALIDATION_ERROR"})
        if why:
            problems.append(f"unknown action field {why}")
        why = _expect_error(
            lambda: session.reset(seed, **kwargs, __not_an_argument__=1), {"VALIDATION_ERROR"}
        )
        if why:
            problems.append(f"unknown reset argument {why}")
        obs = session.reset(seed, **kwargs)
        for _ in range(50):
            obs = session.step(null_policy(obs_dict(obs)))
            if obs.done:
                why = _expect_error(
                    functools.partial(session.step, null_policy(obs_dict(obs))), {"EPISODE_DONE"}
                )
                if why:
                    problems.append(f"step after the episode ended {why}")
                break
    except Exception as exc:  # noqa: BLE001
        problems.append(f"unexpected {type(exc).__name__}: {exc}")
    finally:
        session.close()
    note = "" if tgt.fresh else "(step-before-reset not checked: the target is a single instance)"
    report.add("error_codes", "fail" if problems else "pass", "; ".join(problems) or note)


def check_reset_and_seeds(
    tgt: Target, session: Session, report: CheckReport, seeds: Sequence[int], kwargs: dict[str, Any]
) -> None:
    problems = []
    first = session.reset(seeds[0], **kwargs)
    if not isinstance(first, session.observation_type):
        problems.append(f"reset returned {type(first).__name__}, not {session.observation_type.__name__}")
    if first.done:
        problems.append("reset observation is done")
    if not isinstance(first.metadata, dict) or "config_version" not in first.metadata:
        problems.append("reset metadata lacks config_version")
    state = session.state()
    if not state.episode_id or state.step_count != 0:
        problems.append(f"state after reset is {state.model_dump()} (want an episode id and step_count 0)")
    report.add("reset_contract", "fail" if problems else "pass", "; ".join(problems))

    if first.metadata.get("seed_honoured") is False:
        report.add("seed_determinism", "skip", "the env declares seed_honoured: false")
        return
    keys = {}
    for seed in seeds:
        keys[seed] = _first_obs_key(session.reset(seed, **kwargs))
    problems = []
    again = tgt.session() if tgt.fresh else session
    try:
        for seed in seeds:
            if _first_obs_key(again.reset(seed, **kwargs)) != keys[seed]:
                problems.append(f"seed {seed} gave a different first observation the second time")
    finally:
        if again is not session:
            again.close()
    if len(set(keys.values())) == 1:
        problems.append(f"seeds {list(seeds)} all gave the same first observation (is the seed ignored?)")
    where = "on a fresh session" if tgt.fresh else "on the same instance"
    report.add("seed_determinism", "fail" if problems else "pass", "; ".join(problems) or f"repeated {where}")


def check_steps(
    report: CheckReport, rollouts: dict[int, Rollout], problems: list[str], max_steps: int
) -> None:
    for seed, ro in rollouts.items():
        for i, obs in enumerate(ro.observations[1:], start=1):
            if obs.reward is not None and not (
                isinstance(obs.reward, float | int) and math.isfinite(obs.reward)
            ):
                problems.append(f"seed {seed} step {i}: reward {obs.reward!r} is not a finite number")
            if not isinstance(obs.done, bool):
                problems.append(f"seed {seed} step {i}: done is {obs.done!r}")
        if ro.step_counts != list(range(1, len(ro.step_counts) + 1)):
            problems.append(f"seed {seed}: state().step_count went {ro.step_counts}, expected 1, 2, ...")
        if not ro.done:
            problems.append(f"seed {seed}: the null policy's episode did not end within {max_steps} steps")
    report.add("step_contract", "fail" if problems else "pass", "; ".join(problems))

    bad = []
    rewarded = 0
    for seed, ro in rollouts.items():
        for obs in ro.observations[1:]:
            if obs.reward is None:
                continue
            comps, weights = obs.metadata.get("reward_components"), obs.metadata.get("reward_weights")
            if comps is None and weights is None:
                continue
            rewarded += 1
            if not isinstance(comps, dict) or not isinstance(weights, dict):
                bad.append(f"seed {seed}: reward_components/reward_weights missing or not objects")
                continue
            if obs.metadata.get("reward_errors"):
                continue  # a failed weighted component: the reward is the env's error_reward, not a sum
            # Exactly, not approximately: combine() is the documented reduction, and floats survive JSON,
            # so anyone re-weighting stored components offline gets this reward bit for bit.
            try:
                total = combine(comps, weights, bool(obs.metadata.get("reward_normalized")))
            except (TypeError, ValueError) as exc:
                bad.append(f"seed {seed}: reward_components/reward_weights are not numbers ({exc})")
                continue
            if total is None:
                bad.append(f"seed {seed}: a weighted component is missing from reward_components")
            elif total != obs.reward:
                bad.append(f"seed {seed}: combine(components, weights) = {total!r}, reward = {obs.reward!r}")
    if not rewarded and not bad:
        report.add(
            "reward_metadata", "fail", "no rewarded observation carried reward_components/reward_weights"
        )
    else:
        report.add("reward_metadata", "fail" if bad else "pass", "; ".join(bad))


def check_wire(report: CheckReport, rollouts: list[Rollout], session: Session) -> None:
    problems = []
    for ro in rollouts:
        for obs in ro.observations:
            wire = json.loads(json.dumps(observation_to_wire(obs)))
            back = observation_from_wire(wire, type(obs))
            if back.model_dump(mode="json") != obs.model_dump(mode="json"):
                problems.append(f"{type(obs).__name__} changed on the wire round trip")
                break
        for action in ro.actions:
            try:
                typed = session.action_type.model_validate(action)
                again = session.action_type.model_validate(json.loads(typed.model_dump_json()))
            except Exception as exc:  # noqa: BLE001
                problems.append(f"action {action!r} did not validate: {exc}")
                break
            if again != typed:
                problems.append(f"action {action!r} changed on the wire round trip")
    report.add("wire_roundtrip", "fail" if problems else "pass", "; ".join(problems[:3]))


def check_ground_truth(
    report: CheckReport, oracle: EnvOracle | None, nulls: dict[int, Rollout], kwargs: dict[str, Any]
) -> None:
    if oracle is None or oracle.hidden is None:
        report.add("no_ground_truth", "skip", "no oracle with hidden() given")
        return
    problems = []
    for seed, ro in nulls.items():
        hidden = oracle.hidden(seed, **kwargs)
        for i, obs in enumerate(ro.observations):
            text = json.dumps(obs_dict(obs), ensure_ascii=False)
            leaked = _leaks(hidden, text)
            if leaked:
                problems.append(f"seed {seed} observation {i} contains hidden {leaked}")
    report.add("no_ground_truth", "fail" if problems else "pass", "; ".join(problems[:3]))


def check_rewards(
    report: CheckReport,
    oracle: EnvOracle | None,
    nulls: dict[int, Rollout],
    oracles: dict[int, Rollout],
    max_reward: float | None,
    margin: float,
) -> None:
    if oracle is None:
        report.add("oracle_max", "skip", "no oracle given")
        report.add("null_below", "skip", "no oracle given (no maximum to compare with)")
        return
    top = max_reward if max_reward is not None else oracle.max_reward
    problems = []
    for seed, ro in oracles.items():
        target = top
        if target is None and ro.final is not None:
            weights = ro.final.metadata.get("reward_weights") or {}
            target = float(sum(weights.values())) if weights else None
        if target is None:
            problems.append(f"seed {seed}: no maximum reward known (give max_reward or reward_weights)")
            continue
        if not ro.done:
            problems.append(f"seed {seed}: the oracle's episode did not end")
        elif ro.ret < target - 1e-6:
            problems.append(f"seed {seed}: oracle return {ro.ret:.4g} < maximum {target:.4g}")
        top = target if top is None else top
    if len(oracles) == 0:
        problems.append("no oracle episode completed")
    report.add("oracle_max", "fail" if problems else "pass", "; ".join(problems) or f"return {top}")
    if top is None:
        report.add("null_below", "skip", "no maximum reward known")
        return
    bound = (1.0 - margin) * top
    bad = [
        f"seed {s}: null return {ro.ret:.4g} > {bound:.4g}"
        for s, ro in nulls.items()
        if ro.ret > bound + 1e-9
    ]
    report.add("null_below", "fail" if bad else "pass", "; ".join(bad) or f"<= {bound:.4g}")

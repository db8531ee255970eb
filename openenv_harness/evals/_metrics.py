"""Aggregate statistics of an eval: success rate with standard error, unbiased pass@k, reward means.

Errors (a crashed environment, a policy endpoint that failed, a timeout) are *not* wrong answers: an errored
episode is counted in ``error_rate`` and left out of success rate, pass@k and reward means, so an infra failure
can never masquerade as a model regression (or the reverse).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one task (Chen et al., 2021): ``1 - C(n-c, k) / C(n, k)``.

    Args:
        n: Samples drawn for the task.
        c: Samples that succeeded.
        k: The k of pass@k (``k <= n``).

    Returns:
        The probability that at least one of k samples drawn without replacement succeeds.
    """
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if k < 1 or k > n:
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
    if n - c < k:
        return 1.0
    # Product form avoids huge binomials: prod_{i=n-c+1}^{n} (1 - k/i).
    prob_all_fail = 1.0
    for i in range(n - c + 1, n + 1):
        prob_all_fail *= 1.0 - k / i
    return 1.0 - prob_all_fail


def mean_stderr(values: list[float]) -> tuple[float, float]:
    """Mean and standard error of the mean (sample std / sqrt(n)); stderr is 0 for fewer than 2 values."""
    n = len(values)
    if n == 0:
        return float("nan"), float("nan")
    mean = math.fsum(values) / n
    if n < 2:
        return mean, 0.0
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(var / n)


def aggregate(
    episodes: Iterable[Mapping[str, Any]],
    *,
    success_threshold: float = 1.0,
    success_component: str | None = None,
    ks: Iterable[int] = (1,),
) -> dict[str, Any]:
    """Aggregate episode records of one eval.

    Args:
        episodes: Records with ``task_id``, ``reward`` (float or None), ``reward_components`` (dict) and
            ``error`` (None or a message/code).
        success_threshold: An episode succeeds when its reward (or ``success_component``) is at least this.
        success_component: Judge success on this raw reward component (e.g. ``correct``) instead of the
            weighted reward, so shaping terms such as a format bonus never count as solving the task.
        ks: The k values for pass@k (k larger than a task's sample count are skipped).

    Returns:
        ``{n_episodes, n_errors, error_rate, success_rate, success_stderr, reward_mean, reward_stderr,
        components: {name: mean}, pass_at_k: {k: value}, per_task: {task_id: {n, successes, errors,
        reward_mean}}}``. Means are None when every episode errored.
    """
    eps = list(episodes)
    ok = [e for e in eps if not e.get("error")]
    rewards = [float(e.get("reward") or 0.0) for e in ok]

    def score(e: Mapping[str, Any]) -> float:
        if success_component is None:
            return float(e.get("reward") or 0.0)
        return float((e.get("reward_components") or {}).get(success_component, 0.0))

    successes = [1.0 if score(e) >= success_threshold else 0.0 for e in ok]
    sr, sr_err = mean_stderr(successes)
    rm, rm_err = mean_stderr(rewards)
    comp_values: dict[str, list[float]] = defaultdict(list)
    for e in ok:
        for name, value in (e.get("reward_components") or {}).items():
            if isinstance(value, int | float) and math.isfinite(value):
                comp_values[name].append(float(value))
    per_task: dict[str, dict[str, Any]] = {}
    for e in eps:
        t = per_task.setdefault(str(e.get("task_id")), {"n": 0, "successes": 0, "errors": 0, "rewards": []})
        if e.get("error"):
            t["errors"] += 1
            continue
        t["n"] += 1
        t["rewards"].append(float(e.get("reward") or 0.0))
        t["successes"] += int(score(e) >= success_threshold)
    pass_k: dict[str, float | None] = {}
    for k in sorted(set(ks)):
        vals = [pass_at_k(t["n"], t["successes"], k) for t in per_task.values() if t["n"] >= k]
        pass_k[str(k)] = math.fsum(vals) / len(vals) if vals else None
    for t in per_task.values():
        rs = t.pop("rewards")
        t["reward_mean"] = math.fsum(rs) / len(rs) if rs else None

    def _clean(x: float) -> float | None:
        return None if math.isnan(x) else x

    return {
        "n_episodes": len(eps),
        "n_errors": len(eps) - len(ok),
        "error_rate": (len(eps) - len(ok)) / len(eps) if eps else 0.0,
        "success_rate": _clean(sr),
        "success_stderr": _clean(sr_err),
        "reward_mean": _clean(rm),
        "reward_stderr": _clean(rm_err),
        "components": {k: math.fsum(v) / len(v) for k, v in sorted(comp_values.items())},
        "pass_at_k": pass_k,
        "per_task": dict(sorted(per_task.items())),
    }

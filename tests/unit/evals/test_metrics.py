import math
from itertools import combinations

import pytest

from openenv_harness.evals._metrics import aggregate, mean_stderr, pass_at_k


@pytest.mark.parametrize(("n", "c", "k"), [(5, 0, 1), (5, 2, 1), (5, 2, 3), (6, 5, 2), (4, 4, 4), (10, 3, 5)])
def test_pass_at_k_matches_brute_force(n, c, k):
    outcomes = [1] * c + [0] * (n - c)
    subsets = list(combinations(outcomes, k))
    brute = sum(1 for s in subsets if any(s)) / len(subsets)
    assert pass_at_k(n, c, k) == pytest.approx(brute, abs=1e-12)


def test_pass_at_k_rejects_impossible_counts():
    with pytest.raises(ValueError, match="c <= n"):
        pass_at_k(2, 3, 1)
    with pytest.raises(ValueError, match="k <= n"):
        pass_at_k(2, 1, 3)


def test_mean_stderr():
    m, s = mean_stderr([0.0, 1.0, 1.0, 0.0])
    assert m == 0.5
    assert s == pytest.approx(math.sqrt((4 * 0.25) / 3 / 4))
    assert mean_stderr([1.0]) == (1.0, 0.0)


def test_aggregate_keeps_errors_apart_from_wrong_answers():
    eps = [
        {"task_id": "a", "reward": 1.0, "reward_components": {"correct": 1.0}, "error": None},
        {"task_id": "a", "reward": 0.0, "reward_components": {"correct": 0.0}, "error": None},
        {"task_id": "b", "reward": 0.0, "reward_components": {"correct": 0.0}, "error": None},
        {"task_id": "b", "reward": None, "reward_components": {}, "error": "ENV_ERROR: boom"},
    ]
    r = aggregate(eps, ks=(1, 2))
    assert r["n_episodes"] == 4 and r["n_errors"] == 1 and r["error_rate"] == 0.25
    assert r["success_rate"] == pytest.approx(1 / 3)
    assert r["components"] == {"correct": pytest.approx(1 / 3)}
    assert r["per_task"]["a"] == {"n": 2, "successes": 1, "errors": 0, "reward_mean": 0.5}
    assert r["per_task"]["b"]["errors"] == 1
    # pass@2 only over tasks with >= 2 valid samples (task a): 1 - C(1,2)/C(2,2) = 1
    assert r["pass_at_k"] == {"1": pytest.approx((0.5 + 0.0) / 2), "2": 1.0}


def test_aggregate_all_errors_gives_none_not_zero():
    r = aggregate([{"task_id": "a", "reward": None, "error": "TIMEOUT"}])
    assert r["success_rate"] is None and r["reward_mean"] is None and r["error_rate"] == 1.0

import json
import math
import statistics

import pytest

from openenv_harness.rubric import RewardNormalizer


def test_running_mean_std_per_environment():
    n = RewardNormalizer("running", eps=0.0)
    a, b = [1.0, 2.0, 3.0, 4.0], [100.0, 300.0]
    out = n("a", a)
    mean, std = statistics.fmean(a), statistics.pstdev(a)
    assert out == pytest.approx([(x - mean) / std for x in a])
    assert n("b", b) == pytest.approx([-1.0, 1.0])  # b's scale does not leak into a
    assert n.stats("a")["mean"] == pytest.approx(2.5) and n.stats("a")["count"] == 4
    clipped = RewardNormalizer("running", clip=0.5)
    assert max(abs(x) for x in clipped("e", [0.0, 10.0, 20.0])) == 0.5


def test_minmax_and_percentile():
    mm = RewardNormalizer("minmax")
    assert mm("e", [2.0, 4.0, 3.0]) == [0.0, 1.0, 0.5]
    assert mm("one", [5.0]) == [0.0]  # max == min
    p = RewardNormalizer("percentile", window=4)
    assert p("e", [1.0, 2.0, 3.0, 4.0]) == [0.125, 0.375, 0.625, 0.875]
    p.update("e", [10.0, 10.0])  # window keeps the last 4: 3, 4, 10, 10
    assert (
        p.normalize("e", 3.0) == 0.125 and p.normalize("e", 10.0) == 0.75 and p.normalize("e", 100.0) == 1.0
    )


def test_none_rewards_pass_through_and_nan_is_refused():
    n = RewardNormalizer("minmax")
    assert n("e", [None, 1.0, 3.0]) == [None, 0.0, 1.0]
    assert n.stats("e")["count"] == 2
    with pytest.raises(ValueError, match="must be finite"):
        n.update("e", [math.nan])
    with pytest.raises(ValueError, match="method"):
        RewardNormalizer("zscore")  # type: ignore[arg-type]


@pytest.mark.parametrize("method", ["running", "minmax", "percentile"])
def test_state_dict_roundtrip_continues_identically(method):
    a = RewardNormalizer(method, window=3)
    a.update("x", [0.3, 1.7, -2.0, 5.5])
    a.update("y", [1.0])
    b = RewardNormalizer()
    b.load_state_dict(json.loads(json.dumps(a.state_dict())))
    batch = [0.1, 9.0, -3.0]
    assert a("x", batch) == b("x", batch) and a("y", batch) == b("y", batch)
    assert b.method == method and b.state_dict() == a.state_dict()

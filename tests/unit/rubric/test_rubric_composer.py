import pytest
from rubric_helpers import Bad, Const, Length

from openenv_harness.rubric import RewardComposer, RewardLogger, RewardNormalizer, WeightedSum
from openenv_harness.spec import Observation


class _Memory:
    def __init__(self):
        self.rows = {}

    def add_scalar(self, tag, value, step=None):
        self.rows[(tag, step)] = value


def _observations(weights=None):
    rubric = WeightedSum(
        {"len": Length(scale=0.1), "ok": Const(value=1.0), "judge": Bad(exc=TimeoutError("slow"))}
    )
    out = []
    for text in ["a", "abcd", "abcdefgh"]:
        res = rubric.score(text, None, weights={"judge": 0.0, **(weights or {})})
        out.append(Observation(reward=res.reward, metadata=res.to_metadata()))
    failed = rubric.score("zz", None)  # judge weighted: no reward
    out.append(Observation(reward=failed.reward, metadata=failed.to_metadata()))
    return rubric, out


def test_compose_reweights_normalises_logs_and_masks_failures():
    rubric, obs = _observations()
    writer = _Memory()
    composer = RewardComposer(
        normalizer=RewardNormalizer("minmax"),
        logger=RewardLogger(writer=writer),
        weights={"arith": {"len": 2.0, "ok": 0.0}},
    )
    rewards = composer.compose("arith", obs, step=5)
    raw = [2.0 * 0.1 * n for n in (1, 4, 8)]  # offline re-weighting, exactly what the env would compute
    assert [
        rubric.score(t, None, weights={"len": 2.0, "ok": 0.0, "judge": 0.0}).reward
        for t in ("a", "abcd", "abcdefgh")
    ] == raw
    lo, hi = min(raw), max(raw)
    assert rewards[:3] == [(r - lo) / (hi - lo) for r in raw] and rewards[3] is None
    assert writer.rows[("reward/arith/weight/len", 5)] == 2.0
    assert writer.rows[("reward/arith/error_rate", 5)] == 1.0  # every step reports the failing judge
    # other environments keep their reported rewards
    assert RewardComposer().compose("other", obs) == [o.reward for o in obs]


def test_compose_state_roundtrip_and_logger_needs_step():
    _, obs = _observations()
    a = RewardComposer(normalizer=RewardNormalizer("running"), weights={"e": {"len": 0.5}})
    a.compose("e", obs)
    b = RewardComposer()
    b.load_state_dict(a.state_dict())
    assert b.compose("e", obs) == a.compose("e", obs)
    with pytest.raises(ValueError, match="step="):
        RewardComposer(logger=RewardLogger(writer=_Memory())).compose("e", obs)
    with pytest.raises(TypeError, match="expected a RewardResult"):
        RewardComposer().compose("e", [42])

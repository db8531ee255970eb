import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from openenv_harness.rubric import RewardLogger, RewardResult
from openenv_harness.spec import Observation


def _scalars(log_dir):
    acc = EventAccumulator(str(log_dir))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_logger_writes_total_components_weights_and_schedule(tmp_path):
    logger = RewardLogger(tmp_path)
    r1 = RewardResult(1.5, {"correct": 1.0, "format": 2.5}, {"correct": 1.0, "format": 0.2})
    meta = {**r1.to_metadata(), "config_version": 3}
    failed = RewardResult(None, {"format": 0.5}, {"correct": 1.0, "format": 0.2}, {"correct": "judge down"})
    obs = Observation(reward=0.5, done=True, metadata={**failed.to_metadata(), "config_version": 4})
    out = logger.log(7, [r1, meta, obs], env="arith", schedule={"weights.format": 0.2})
    logger.log(8, [RewardResult(0.25, {"correct": 0.25}, {"correct": 1.0})], env="arith")
    logger.close()
    assert out["reward/arith/error_rate"] == 1 / 3 and out["reward/arith/config_version"] == 4.0
    s = _scalars(tmp_path)
    # event files store float32
    assert s["reward/arith/total"] == [(7, pytest.approx((1.5 + 1.5 + 0.5) / 3)), (8, 0.25)]
    assert s["reward/arith/component/format"][0] == (7, pytest.approx((2.5 + 2.5 + 0.5) / 3))
    assert s["reward/arith/component/correct"] == [(7, 1.0), (8, 0.25)]
    assert s["reward/arith/weight/format"][0][1] == pytest.approx(0.2)
    assert s["schedule/weights.format"][0][0] == 7
    assert s["reward/arith/config_version"] == [(7, 4.0)]


class _Memory:
    def __init__(self):
        self.rows = []

    def add_scalar(self, tag, value, step=None):
        self.rows.append((tag, value, step))


def test_logger_shares_an_existing_writer():
    w = _Memory()
    RewardLogger(writer=w, prefix="r").log(1, [RewardResult(2.0, {"a": 2.0}, {"a": 1.0})], env="e")
    assert ("r/e/total", 2.0, 1) in w.rows and ("r/e/weight/a", 1.0, 1) in w.rows

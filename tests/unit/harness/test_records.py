from omegaconf import OmegaConf

from openenv_harness.harness import step_metrics
from openenv_harness.harness.records import RunLogger, RunRecord, read_scalars
from openenv_harness.rollout import Episode, Turn
from openenv_harness.rubric import config_update as rubric_update


def _ep(reward, correct, error=None):
    turn = Turn("q", "a", {"answer": "a"}, reward, {"correct": correct}, {"correct": 1.0}, 1, True)
    return Episode(seed=1, turns=[] if error else [turn], reward=reward, done=not error, error=error)


def test_tensorboard_and_episodes_round_trip(tmp_path):
    log = RunLogger(tmp_path)
    log.scalars({"reward/mean": 0.5, "schedule/weights.format": 0.25}, 0)
    log.scalars({"reward/mean": 0.75}, 1)
    log.episodes([_ep(1.0, 1.0)])
    log.close()
    scalars = read_scalars(tmp_path / "tb")
    assert scalars["reward/mean"] == [(0, 0.5), (1, 0.75)]
    assert scalars["schedule/weights.format"] == [(0, 0.25)]
    assert (tmp_path / "episodes.jsonl").read_text().count("\n") == 1


def test_run_record_round_trip(tmp_path):
    rec = RunRecord(name="x", env="echo", config={"a": 1}, steps=3, status="finished")
    rec.write(tmp_path)
    assert RunRecord.read(tmp_path / "run.json") == rec


def test_step_metrics_zero_signal_groups():
    eps = [_ep(1.0, 1.0), _ep(1.0, 1.0), _ep(0.0, 0.0), _ep(1.0, 1.0)]
    m = step_metrics(eps, group_size=2)
    assert m["grpo/zero_signal_group_frac"] == 0.5 and m["reward/mean"] == 0.75


def test_step_metrics_keep_errors_out_of_rewards():
    errored = _ep(0.0, 0.0, error="TIMEOUT: slow")
    errored.reward = None
    eps = [_ep(1.0, 1.0), errored, _ep(0.0, 0.0), _ep(0.0, 0.0)]
    m = step_metrics(eps, group_size=2)
    # The error is neither a zero in the mean nor a member of its group's signal test.
    assert m["reward/mean"] == 1 / 3 and m["rollout/error_rate"] == 0.25
    assert m["grpo/zero_signal_group_frac"] == 1.0  # group 1 has one scored episode, group 2 two equal ones


def test_rubric_update_merges_weights_into_overrides():
    cfg = OmegaConf.create(
        {"weights": {"format": 0.0}, "overrides": {"tolerance": 0.1, "weights": {"correct": 2.0}}}
    )
    assert rubric_update(cfg) == {"tolerance": 0.1, "weights": {"correct": 2.0, "format": 0.0}}
    assert rubric_update(OmegaConf.create({"weights": {}, "overrides": {}})) == {}

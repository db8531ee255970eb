import pytest
from rubric_helpers import Const

from openenv_harness.rubric import RubricError, TrajectoryRubric, WeightedSum
from openenv_harness.spec import Observation


class Success(TrajectoryRubric):
    """1.0 if the last message is 'win', minus 0.1 per extra step; partial runs score 0.25."""

    def score_trajectory(self, steps, truncated):
        if truncated:
            return 0.25
        return (1.0 if steps[-1].action == "win" else 0.0) - 0.1 * (len(steps) - 1)


def _obs(done=False, **meta):
    return Observation(done=done, metadata=meta)


def test_scores_at_episode_end_with_discounted_credit():
    r = Success(gamma=0.5, intermediate_reward=0.01)
    assert r("a", _obs()) == 0.01
    assert r("b", _obs()) == 0.01
    final = r("win", _obs(done=True))
    assert final == pytest.approx(0.8)
    res = r.finish()  # idempotent: already finished by the done observation
    assert res.score == final and res.num_steps == 3 and not res.truncated
    # return-to-go: G2 = 0.8, G1 = 0.01 + 0.5 * 0.8, G0 = 0.01 + 0.5 * G1
    assert res.credits == [0.01 + 0.5 * (0.01 + 0.5 * final), 0.01 + 0.5 * final, final]
    with pytest.raises(RubricError, match="trajectory is finished"):
        r("again", _obs())


def test_gamma_one_gives_every_step_the_final_score():
    r = Success()
    for msg in ("x", "y"):
        r(msg, _obs())
    r("win", _obs(done=True))
    assert r.last_result.credits == [pytest.approx(0.8)] * 3


@pytest.mark.parametrize(("policy", "score"), [("score", 0.25), ("fail", -1.0), ("none", None)])
def test_truncation_by_timeout(policy, score):
    r = Success(on_truncation=policy, fail_score=-1.0)
    r("a", _obs())
    r("b", _obs())  # then the next step times out: no terminal observation ever arrives
    res = r.finish(truncated=True)
    assert res.truncated and res.num_steps == 2 and res.score == score
    assert res.credits == ([] if score is None else [score, score])


def test_reset_finishes_an_unfinished_episode_as_truncated_and_keeps_it():
    r = Success()
    r("a", _obs())
    r.reset(context={"task": 1})
    assert r.previous_result is not None and r.previous_result.truncated and r.previous_result.score == 0.25
    assert r.steps == [] and r.last_result is None
    assert r("win", _obs(done=True)) == 1.0  # the next episode starts clean


def test_done_observation_marked_truncated_and_empty_finish():
    r = Success()
    assert r("a", _obs(done=True, truncated=True)) == 0.25
    assert r.last_result.truncated
    assert Success().finish().score is None


def test_inside_weighted_sum_and_gamma_validation():
    ws = WeightedSum({"traj": Success(), "fmt": Const(value=1.0)}, weights={"traj": 2.0, "fmt": 0.5})
    assert ws.score("a", _obs()).reward == 0.5
    assert ws.score("win", _obs(done=True)).reward == 2.0 * 0.9 + 0.5
    with pytest.raises(RubricError, match="gamma"):
        Success(gamma=1.5)


def test_trajectory_credits_weighted_over_components():
    from openenv_harness.rubric import trajectory_credits

    ws = WeightedSum({"a": Success(gamma=0.5), "b": Success(), "c": Const(value=1.0)})
    assert trajectory_credits(ws) is None  # nothing finished yet
    ws.score("x", _obs())
    ws.score("win", _obs(done=True))
    final = 1.0 - 0.1
    assert trajectory_credits(ws, {"a": 2.0, "b": 1.0}) == [2.0 * 0.5 * final + final, 2.0 * final + final]
    assert trajectory_credits(ws, {"a": 0.0}) == ws.b.last_result.credits
    none = WeightedSum({"t": Success(on_truncation="none")})
    none.score("x", _obs())
    none.t.finish(truncated=True)
    assert trajectory_credits(none) is None
    assert trajectory_credits(Const()) is None

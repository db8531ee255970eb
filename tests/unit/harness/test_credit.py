import pytest

from openenv_harness.harness.credit import returns_to_go, step_credits, token_advantages, turn_advantages
from openenv_harness.rollout import Episode, TokenTrace, Turn


def _turn(reward, credits=None):
    return Turn("p", "c", {}, reward, {}, {}, 1, False, credits)


def _ep(rewards, credits=None, error=None, tokens_per_turn=2):
    turns = [_turn(r) for r in rewards]
    if credits is not None:
        turns[-1] = _turn(rewards[-1], credits)
    trace = TokenTrace([1])
    for t in range(len(turns)):
        trace.add([5] * tokens_per_turn, model=True)
        trace.turns += 1
        if t < len(turns) - 1:
            trace.add([6], model=False)  # the env's turn between the model's
    ep = Episode(seed=0, turns=turns, reward=sum(r or 0 for r in rewards), trace=trace)
    if error:
        ep.fail(error)
    return ep


def test_credits_come_from_the_env_when_it_gives_one_per_turn():
    assert step_credits(_ep([0.0, 0.0, 1.0], credits=[0.25, 0.5, 1.0])) == [0.25, 0.5, 1.0]
    assert step_credits(_ep([0.2, None, 1.0])) == [0.2, 0.0, 1.0]  # else each step's reward
    assert step_credits(_ep([0.0, 1.0], credits=[1.0])) == [0.0, 1.0]  # wrong length: not per turn
    assert returns_to_go([1.0, 2.0, 3.0]) == [6.0, 5.0, 3.0]


def test_later_turns_lose_credit_earned_before_them_and_errors_get_none():
    group = [_ep([1.0, 0.0]), _ep([0.0, 0.0]), _ep([0.0, 0.0], error="TIMEOUT: x")]
    adv = turn_advantages(group, group_size=3)
    # returns-to-go [1, 0] and [0, 0]; baseline over the two scored episodes: mean 0.5, std 0.5
    assert adv[0] == pytest.approx([1.0, -1.0], rel=1e-3) and adv[1] == pytest.approx([-1.0, -1.0], rel=1e-3)
    assert adv[2] == []


def test_token_advantages_follow_each_tokens_turn():
    group = [_ep([1.0, 0.0]), _ep([0.0, 0.0])]
    rows = token_advantages(group, group_size=2, width=7)
    # 2 model tokens (turn 0), 1 env token (precedes turn 1), 2 model tokens (turn 1), 2 padding
    a0, a1 = turn_advantages(group, 2)[0]
    assert rows[0] == pytest.approx([a0, a0, a1, a1, a1, 0.0, 0.0])
    assert len(rows) == 2 and all(len(r) == 7 for r in rows)

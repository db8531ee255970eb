from openenv_harness.rollout import Episode, Turn, summarize


def _ep(reward, correct, turns=1, error=None, invalid=None):
    turn = Turn("q", "a", {"answer": "a"}, reward, {"correct": correct}, {"correct": 1.0}, 1, True)
    ep = Episode(seed=1, turns=[turn] * turns, reward=reward, done=True, error=error, invalid_action=invalid)
    if error:
        ep.turns, ep.reward, ep.done = [], None, False
    return ep


def test_errors_are_kept_apart_from_wrong_answers():
    s = summarize([_ep(1.0, 1.0), _ep(0.0, 0.0), _ep(0.0, 0.0, error="ENV_ERROR: boom")])
    assert s["n"] == 3 and s["error_rate"] == 1 / 3
    assert s["success"] == 0.5  # over the two scored episodes; the outage is not a wrong answer
    assert s["reward_mean"] == 0.5


def test_first_turn_success_shows_what_later_turns_add():
    eps = [_ep(1.0, 1.0, turns=1), _ep(1.0, 1.0, turns=2), _ep(0.0, 0.0, turns=3), _ep(1.0, 1.0, turns=3)]
    s = summarize(eps, "correct")
    assert s["success"] == 0.75 and s["first_turn_success"] == 0.25 and s["turns_mean"] == 2.25


def test_invalid_actions_count_as_failures():
    s = summarize([_ep(0.0, 0.0, invalid="VALIDATION_ERROR: too long"), _ep(1.0, 1.0)])
    assert s["invalid_rate"] == 0.5 and s["success"] == 0.5 and s["error_rate"] == 0.0


def test_success_without_the_component_is_positive_reward():
    s = summarize([_ep(0.5, 0.0), _ep(0.0, 0.0)], success_component="solved")
    assert s["success"] == 0.5

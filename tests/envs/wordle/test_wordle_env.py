from __future__ import annotations

import re

import pytest

from envs.wordle import WordleAction, WordleConfig, WordleEnvironment
from envs.wordle.environment import _INSTRUCTIONS, WordleObservation
from envs.wordle.game import feedback, pick_secret, word_list
from envs.wordle.oracle import hidden, null_action, oracle_action, solver_action
from openenv_harness.checks import check_env
from openenv_harness.rubric import combine
from openenv_harness.runtime import InProcessProvider, LocalProcessProvider
from openenv_harness.spec import EnvError, ErrorCode


def _play(env: WordleEnvironment, policy, seed: int) -> WordleObservation:  # type: ignore[no-untyped-def]
    obs = env.reset(seed=seed)
    while not obs.done:
        obs = env.step(WordleAction.model_validate(policy(obs.model_dump(mode="json"))))
    return obs


@pytest.mark.parametrize(
    ("guess", "secret", "expected"),
    [
        ("crane", "crane", "GGGGG"),
        ("speed", "abide", "..Y.Y"),  # one 'e' in the secret: only one yellow
        ("eerie", "geese", "YG..G"),  # green consumes its copy before yellows are given
        ("llama", "hello", "YY..."),
        ("abcde", "fghij", "....."),
    ],
)
def test_feedback_rules(guess: str, secret: str, expected: str) -> None:
    assert feedback(guess, secret) == expected


def test_seeded_secret_and_first_observation() -> None:
    assert pick_secret(3) == pick_secret(3) == hidden(3)["secret"]
    assert len({pick_secret(s) for s in range(40)}) > 20
    assert pick_secret(None, index=0) == word_list()[0]
    a, b = WordleEnvironment(), WordleEnvironment()
    oa, ob = a.reset(seed=9), b.reset(seed=9)
    assert oa.model_dump(exclude={"metadata"}) == ob.model_dump(exclude={"metadata"})
    assert a.ground_truth() == b.ground_truth() == pick_secret(9)


def test_oracle_gets_max_reward_with_step_credits() -> None:
    env = WordleEnvironment()
    env.reset(seed=4)
    obs = env.step(WordleAction.model_validate(oracle_action({}, hidden(4))))
    assert obs.done and obs.metadata["solved"] and obs.metadata["turns_used"] == 1
    assert obs.reward == pytest.approx(1.6)
    assert obs.metadata["reward_components"] == {"solved": 1.0, "efficiency": 1.0, "valid_guesses": 1.0}
    assert obs.metadata["step_credits"] == [pytest.approx(1.6)]


def test_trajectory_scoring_discounting_and_reweighting() -> None:
    env = WordleEnvironment(max_turns=4)
    env.configure(
        WordleConfig(weights={"solved": 1.0, "efficiency": 1.0, "valid_guesses": 0.0}, gamma=0.5), 3
    )
    env.reset(seed=2)
    secret = env.ground_truth()
    wrong = next(w for w in word_list() if w != secret)
    rewards = []
    for guess in [wrong, "no", secret]:
        obs = env.step(WordleAction(guess=guess))
        rewards.append(obs.reward)
    assert rewards[:2] == [0.0, 0.0] and obs.done
    comps = obs.metadata["reward_components"]
    assert comps["solved"] == 1.0 and comps["efficiency"] == pytest.approx((4 - 3 + 1) / 4)
    assert comps["valid_guesses"] == pytest.approx(2 / 3)
    assert obs.reward == pytest.approx(1.5)
    assert obs.reward == combine(comps, obs.metadata["reward_weights"])
    assert obs.metadata["config_version"] == 3
    # Discounted return-to-go with gamma 0.5: 1.5 at the end, halved per step back.
    assert obs.metadata["step_credits"] == pytest.approx([0.375, 0.75, 1.5])


def test_invalid_and_unknown_guesses_use_turns_and_end_the_episode() -> None:
    env = WordleEnvironment(max_turns=3, require_known_word=True)
    env.reset(seed=0)
    obs = env.step(WordleAction(guess="zzzzz"))
    assert "not in the word list" in obs.error and obs.feedback == "" and obs.turns_left == 2
    obs = env.step(WordleAction(guess="ab1"))
    assert "exactly 5 letters" in obs.error
    obs = env.step(WordleAction(guess=""))
    assert obs.done and obs.reward == 0.0 and obs.metadata["solved"] is False
    with pytest.raises(EnvError) as info:
        env.step(WordleAction(guess="crane"))
    assert info.value.code == ErrorCode.EPISODE_DONE


def test_reset_arguments_are_validated() -> None:
    env = WordleEnvironment()
    with pytest.raises(EnvError, match="index must be in"):
        env.reset(seed=0, index=10_000)
    with pytest.raises(EnvError, match="only 'index'"):
        env.reset(seed=0, word="crane")
    with pytest.raises(ValueError, match="gamma"):
        WordleConfig(gamma=2.0)


def test_secret_never_in_observations_of_a_lost_game() -> None:
    env = WordleEnvironment()
    for seed in range(30):
        obs = _play(env, solver_action if seed % 2 else null_action, seed)
        if not obs.metadata["solved"]:
            text = obs.model_dump_json() + env.state.model_dump_json()
            assert not re.search(rf"\b{env.ground_truth()}\b", text)


def test_no_word_of_the_list_appears_in_the_fixed_texts() -> None:
    # The leak checker matches short secrets as whole tokens anywhere in an observation.
    fixed = " ".join([_INSTRUCTIONS.format(n=5, turns=6), *WordleObservation.model_fields, "invalid"])
    tokens = set(re.findall(r"(?<![\w.])[a-z]+(?!\w)", fixed.lower()))
    assert not tokens & set(word_list())


def test_solver_baseline_solves_most_games() -> None:
    env = WordleEnvironment()
    solved = [_play(env, solver_action, seed).metadata["solved"] for seed in range(40)]
    assert sum(solved) >= 32


def test_check_env_bare_in_process_and_over_ws() -> None:
    check_env(WordleEnvironment, oracle="envs.wordle.oracle", seeds=(0, 1, 2, 3)).raise_for_failures()
    with InProcessProvider(WordleEnvironment) as provider:
        check_env(provider, oracle="envs.wordle.oracle", seeds=(5, 6)).raise_for_failures()
    with LocalProcessProvider("wordle") as provider:
        check_env(provider, oracle="envs.wordle.oracle", seeds=(7, 8)).raise_for_failures()

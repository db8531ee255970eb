"""The arith env: seeded generation, answer parsing, reward components and weights, taskset binding."""

from __future__ import annotations

import pytest

from envs.arith import ArithAction, ArithConfig, ArithEnvironment
from envs.arith.generator import answer_of, evaluate, generate
from envs.arith.scoring import final_number, format_score, numbers_in
from openenv_harness.spec import EnvError, ErrorCode


def test_generator_is_seeded_and_answers_are_right() -> None:
    for difficulty in range(1, 6):
        seen = set()
        for seed in range(30):
            a, b = generate(seed, difficulty), generate(seed, difficulty)
            assert a == b
            seen.add(a.question)
            if difficulty <= 4:
                assert answer_of(a.question) == a.answer
            assert a.answer >= 0
        assert len(seen) > 10, f"difficulty {difficulty} barely varies"
    with pytest.raises(ValueError, match="difficulty"):
        generate(0, 6)


def test_lowest_difficulty_is_one_digit_sums() -> None:
    for seed in range(50):
        task = generate(seed, 1)
        a, b = task.question.removeprefix("What is ").removesuffix("?").split(" + ")
        assert 1 <= int(a) <= 9 and 1 <= int(b) <= 9


def test_evaluate_accepts_only_arithmetic() -> None:
    assert evaluate("2 * (3 + 4) - -1") == 15
    for bad in ("__import__('os')", "2 ** 10", "a + 1", "1; 2"):
        with pytest.raises(ValueError):
            evaluate(bad)
    with pytest.raises(ValueError, match="expected 'What is"):
        answer_of("How much is 2 + 2?")


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("12", 1.0),
        (" 12. ", 1.0),
        ("-3", 1.0),
        ("1,234", 1.0),
        ("The answer is 12.", 0.5),
        ("7 + 5 = 12", 0.0),
        ("", 0.0),
        ("twelve", 0.0),
    ],
)
def test_format_levels(text: str, fmt: float) -> None:
    assert format_score(text) == fmt


def test_final_number() -> None:
    assert final_number("7 + 5 = 12") == 12
    assert final_number("no digits") is None
    assert numbers_in("a 1,000 b -2.5") == [1000.0, -2.5]


def test_episode_rewards_and_metadata() -> None:
    env = ArithEnvironment()
    obs = env.reset(seed=3)
    assert obs.question == "What is 9 + 2?" and obs.reward is None and not obs.done
    assert "11" not in obs.model_dump_json()
    cases = {
        "11": (1.0, 1.0),
        "I think 11": (1.0, 0.5),
        "9 + 2 = 11": (1.0, 0.0),
        "12": (0.0, 1.0),
        "": (0.0, 0.0),
    }
    for answer, (correct, fmt) in cases.items():
        env.reset(seed=3)
        out = env.step(ArithAction(answer=answer))
        assert out.done
        assert out.metadata["reward_components"] == {"correct": correct, "format": fmt}
        assert out.reward == pytest.approx(1.0 * correct + 0.2 * fmt)
    with pytest.raises(EnvError) as info:
        env.step(ArithAction(answer="11"))
    assert info.value.code == ErrorCode.EPISODE_DONE


def test_weights_come_from_the_reward_config() -> None:
    env = ArithEnvironment()
    env.configure(ArithConfig(weights={"correct": 2.0, "format": 0.0}), version=4)
    env.reset(seed=3)
    out = env.step(ArithAction(answer="The answer is 11"))
    assert out.reward == pytest.approx(2.0)
    assert out.metadata["config_version"] == 4
    assert out.metadata["reward_weights"] == {"correct": 2.0, "format": 0.0}


def test_step_before_reset_and_bad_reset_arguments() -> None:
    env = ArithEnvironment()
    with pytest.raises(EnvError) as info:
        env.step(ArithAction(answer="1"))
    assert info.value.code == ErrorCode.NOT_RESET
    for kwargs, match in [
        ({"colour": "red"}, "unknown argument"),
        ({"difficulty": 9}, "difficulty"),
        ({"split": "train"}, "no taskset"),
        ({"answer": "3"}, "only accepted together"),
        ({"question": "Who are you?"}, "pass answer="),
    ]:
        with pytest.raises(EnvError, match=match) as info:
            env.reset(seed=0, **kwargs)
        assert info.value.code == ErrorCode.VALIDATION_ERROR
    with pytest.raises(ValueError, match="difficulty"):
        ArithEnvironment(difficulty=0)


def test_question_given_at_reset() -> None:
    env = ArithEnvironment()
    obs = env.reset(seed=0, question="What is 6 * 7?")
    assert obs.question == "What is 6 * 7?"
    assert env.step(ArithAction(answer="42")).metadata["reward_components"]["correct"] == 1.0
    env.reset(seed=0, question="How many legs has a spider?", answer="8")
    assert env.step(ArithAction(answer="8")).reward == pytest.approx(1.2)


def test_difficulty_knob() -> None:
    env = ArithEnvironment(difficulty=5)
    assert env.reset(seed=1).difficulty == 5
    assert env.reset(seed=1, difficulty=2).difficulty == 2


def test_taskset_binding() -> None:
    env = ArithEnvironment(taskset="tasksets/arith")
    a = env.reset(seed=5, split="test")
    b = env.reset(seed=5, split="test")
    assert a.question == b.question and a.task_id.startswith("arith/test/")
    row0 = env.reset(seed=0, split="test", index=0)
    answer = answer_of(row0.question)
    assert env.step(ArithAction(answer=str(int(answer)))).metadata["reward_components"]["correct"] == 1.0
    with pytest.raises(EnvError) as info:
        env.reset(seed=0, split="test", index=10_000)
    assert info.value.code == ErrorCode.VALIDATION_ERROR
    with pytest.raises(EnvError, match="difficulty"):
        env.reset(seed=0, difficulty=2)

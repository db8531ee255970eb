import openenv_harness as oh
from envs.arith.generator import generate
from openenv_harness.rollout import adapter_for


def test_arith_scripted_is_neither_oracle_nor_noop():
    ad = adapter_for("arith")
    right = wrong = 0
    for seed in range(200):
        task = generate(seed, 2 + seed % 2)  # mixes sums and differences
        text = ad.scripted({"question": task.question}, [])
        assert text.strip()
        if float(text) == float(task.answer):
            right += 1
        else:
            wrong += 1
    assert right > 0 and wrong > 0


def test_prompt_is_the_question_then_the_feedback():
    ad = adapter_for("arith")
    assert ad.to_action("12") == {"answer": "12"}
    assert ad.render({"question": "What is 1 + 2?", "difficulty": 1, "feedback": ""}) == "What is 1 + 2?"
    env = oh.make("arith", attempts=2)
    env.reset(seed=3)
    obs = env.step(env.action_type(answer="1000"))
    text = ad.render(obs.model_dump(exclude={"done", "reward", "metadata"}))
    assert "1000 is wrong: the answer is smaller" in text and obs.question in text


def test_retries_score_only_the_final_answer():
    env = oh.make("arith", attempts=3)
    first = env.reset(seed=11)
    assert first.attempts_left == 3
    wrong = env.step(env.action_type(answer="99999"))
    assert not wrong.done and wrong.reward is None and "reward_components" not in wrong.metadata
    right_answer = str(int(generate(11, 1).answer))
    final = env.step(env.action_type(answer=right_answer))
    assert final.done and final.metadata["reward_components"]["correct"] == 1.0
    assert final.reward == 1.2 and final.metadata["attempts_used"] == 2
    # Wrong every time: the last attempt ends the episode, scored like a wrong answer (format points only).
    env.reset(seed=11)
    for _ in range(3):
        last = env.step(env.action_type(answer="99999"))
    assert last.done and last.metadata["reward_components"]["correct"] == 0.0 and last.reward == 0.2


def test_single_attempt_is_unchanged():
    env = oh.make("arith")
    env.reset(seed=11)
    obs = env.step(env.action_type(answer="99999"))
    assert obs.done and obs.reward == 0.2 and obs.feedback == ""

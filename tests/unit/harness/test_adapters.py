import pytest

from envs.arith.generator import generate
from openenv_harness.harness.adapters import adapter_for, first_string_field


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


def test_scripted_is_deterministic():
    ad = adapter_for("echo")
    assert ad.scripted({"greeting": "hola"}, []) == ad.scripted({"greeting": "hola"}, []) == "hola"


def test_actions_and_prompts():
    assert adapter_for("arith").to_action("12") == {"answer": "12"}
    assert adapter_for("arith").render({"question": "What is 1 + 2?", "difficulty": 1}) == "What is 1 + 2?"
    coding = adapter_for("coding")
    act = coding.to_action("Here:\n```python\ndef f():\n    return 1\n```\nDone")
    assert act == {"language": "python", "submit": True, "code": "def f():\n    return 1\n"}


def test_generic_adapter_from_schema():
    schema = {"properties": {"n": {"type": "integer"}, "text": {"type": "string"}}, "required": ["n", "text"]}
    assert first_string_field(schema) == "text"
    ad = adapter_for("mystery", action_schema=schema)
    assert ad.to_action("hi") == {"text": "hi"}
    with pytest.raises(ValueError, match="env.action_field"):
        adapter_for("mystery", action_schema={"properties": {"n": {"type": "integer"}}})
    assert adapter_for("arith", action_field="other").to_action("x") == {"other": "x"}


def test_wordle_adapter_extracts_a_word_and_plays_fixed_openers():
    ad = adapter_for("wordle")
    assert ad.to_action("My guess is CRANE.") == {"guess": "crane"}
    chat = [{"role": "assistant", "content": "crane"}]
    assert ad.scripted({}, []) == "crane" and ad.scripted({}, chat) == "sloth"


def test_tool_envs_take_json_tool_calls_and_plain_text():
    tools = adapter_for("tools")
    call = '{"tool": "sql", "args": {"query": "SELECT 1"}}'
    assert tools.to_action(call) == {"tool": "sql", "args": {"query": "SELECT 1"}}
    assert tools.to_action("42.5") == {"answer": "42.5"}
    # JSON with keys the action does not have is just text for the main field.
    assert tools.to_action('{"foo": 1}') == {"answer": '{"foo": 1}'}
    support = adapter_for("support")
    assert support.to_action("Hello!") == {"message": "Hello!"}
    assert (
        support.to_action('{"tool": "find_customer", "args": {"email": "a@b.c"}}')["tool"] == "find_customer"
    )


def test_tool_env_baselines_are_fixed_and_not_the_oracle():
    import openenv_harness as oh
    from envs.tools.environment import ToolsAction

    tools = adapter_for("tools")
    rewards = []
    for seed in range(12):
        env = oh.make("tools")
        obs = env.reset(seed=seed)
        text = tools.scripted(obs.model_dump(), [])
        assert text == tools.scripted(obs.model_dump(), [])
        rewards.append(env.step(ToolsAction(**tools.to_action(text))).reward or 0.0)
    assert max(rewards) <= 1.0 and sum(rewards) < len(rewards)  # never solves everything
    assert "email" in adapter_for("support").scripted({}, [])

import pytest

import openenv_harness as oh
from openenv_harness.rollout import EnvAdapter, GenericAdapter, TextAdapter, adapter_for, first_string_field
from openenv_harness.spec import register


@pytest.fixture(autouse=True)
def _forget_test_registrations():
    """Envs registered here are for these tests only (other tests walk every registered env)."""
    from openenv_harness.spec import _registry

    before = set(_registry._registry)
    yield
    for name in set(_registry._registry) - before:
        _registry._registry.pop(name, None)


def test_shipped_envs_declare_their_adapter_beside_them():
    for env_id, success in [
        ("echo", None),
        ("arith", "correct"),
        ("coding", "tests"),
        ("wordle", "solved"),
        ("tools", "correct"),
        ("support", "db_match"),
    ]:
        ad = adapter_for(env_id)
        assert isinstance(ad, EnvAdapter) and isinstance(ad, TextAdapter), env_id
        assert ad.env_id == env_id and ad.success_component == success
        assert ad.baseline.__module__ == f"openenv_harness.envs.{env_id}.adapter", "declared beside the env"


def test_an_explicit_adapter_entry_point_wins():
    register("echo-custom", "envs.echo:EchoEnvironment", adapter="envs.arith.adapter:ADAPTER")
    assert adapter_for("echo-custom").env_id == "arith"
    register("echo-bad", "envs.echo:EchoEnvironment", adapter="envs.arith.adapter:baseline")
    with pytest.raises(TypeError, match="not an EnvAdapter"):
        adapter_for("echo-bad")


def test_env_action_field_override():
    assert adapter_for("arith", action_field="other").to_action("x") == {"other": "x"}


def test_generic_adapter_from_schema():
    schema = {"properties": {"n": {"type": "integer"}, "text": {"type": "string"}}, "required": ["n", "text"]}
    assert first_string_field(schema) == "text"
    ad = adapter_for("mystery", action_schema=schema)
    assert isinstance(ad, GenericAdapter)
    assert ad.to_action("hi") == {"text": "hi"}
    assert ad.to_action('{"n": "3", "text": "a"}') == {"n": 3, "text": "a"}  # coerced to the schema's type
    assert "n (integer, required)" in ad.system_prompt and "text (string, required)" in ad.system_prompt


def test_generic_adapter_numbers_enums_and_refusals():
    connect4 = {"properties": {"column": {"type": "integer", "description": "0-6"}}, "required": ["column"]}
    ad = adapter_for("connect4-like", action_schema=connect4)
    assert ad.to_action("I play column 3.") == {"column": 3}
    assert ad.to_action('```json\n{"column": 5}\n```') == {"column": 5}
    assert "0-6" in ad.system_prompt
    with pytest.raises(ValueError, match="not a JSON object"):
        ad.to_action("the middle one")
    mcp = {
        "properties": {
            "type": {"type": "string", "enum": ["call_tool"]},
            "tool_name": {"type": "string"},
            "arguments": {"type": "object"},
        },
        "required": ["tool_name"],
    }
    call = adapter_for("mcp-like", action_schema=mcp).to_action(
        '{"tool_name": "echo", "arguments": {"x": 1}}'
    )
    # the one-value enum is not the agent's to choose: it is filled in
    assert call == {"type": "call_tool", "tool_name": "echo", "arguments": {"x": 1}}
    with pytest.raises(ValueError, match="env.action_field"):
        adapter_for("empty", action_schema={"properties": {}})
    with pytest.raises(ValueError, match="not a field"):
        adapter_for("connect4-like", action_field="row", action_schema=connect4)


def test_generic_adapter_drives_a_real_env_class():
    """An env that declares no adapter (registered here without one) runs through its schema alone."""
    register("arith-undeclared", "openenv_harness.spec:Environment")  # no adapter module beside it
    env = oh.make("arith")
    ad = adapter_for("arith-undeclared", action_schema=env.action_type.model_json_schema())
    env.reset(seed=1)
    obs = env.step(env.action_type(**ad.to_action("7")))
    assert obs.done and obs.reward is not None

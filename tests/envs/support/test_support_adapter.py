from openenv_harness.rollout import adapter_for


def test_support_messages_and_tool_calls():
    support = adapter_for("support")
    assert support.to_action("Hello!") == {"message": "Hello!"}
    call = support.to_action('{"tool": "find_customer", "args": {"email": "a@b.c"}}')
    assert call["tool"] == "find_customer"
    assert "email" in support.scripted({}, [])
    assert adapter_for("echo").scripted({"greeting": "hola"}, []) == "hola"

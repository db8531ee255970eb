from openenv_harness.rollout import adapter_for


def test_code_runs_unless_the_reply_says_submit():
    coding = adapter_for("coding")
    act = coding.to_action("Here:\n```python\ndef f():\n    return 1\n```\nDone")
    assert act == {"language": "python", "submit": False, "code": "def f():\n    return 1\n"}
    assert coding.to_action("SUBMIT\n```python\nx = 1\n```")["submit"] is True
    # The word inside the code is the program's, not a request to grade it.
    assert coding.to_action('```python\nprint("SUBMIT")\n```')["submit"] is False


def test_prompt_is_the_task_then_the_run_output():
    coding = adapter_for("coding")
    assert coding.render({"prompt": "def f(x):", "message": "Implement f"}) == "def f(x):"
    later = coding.render({"prompt": "", "message": "ran: exit 1", "stdout": "", "stderr": "NameError"})
    assert later == "ran: exit 1\nstderr:\nNameError"


def test_baseline_submits_a_fixed_identity_function():
    coding = adapter_for("coding")
    text = coding.scripted({"prompt": "def add(a: int, b: int) -> int:\n"}, [])
    act = coding.to_action(text)
    assert act["submit"] is True and "return a" in act["code"]

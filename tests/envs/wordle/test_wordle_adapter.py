from openenv_harness.rollout import adapter_for


def test_wordle_adapter_extracts_a_word_and_plays_fixed_openers():
    ad = adapter_for("wordle")
    assert ad.to_action("My guess is CRANE.") == {"guess": "crane"}
    chat = [{"role": "assistant", "content": "crane"}]
    assert ad.scripted({}, []) == "crane" and ad.scripted({}, chat) == "sloth"

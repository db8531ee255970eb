"""Token traces of multi-turn episodes on the real small model: what the model said is trained, the rest masked."""

import pytest

from openenv_harness.rollout import HFPolicy, TokenTrace, embedded_model_path

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def policy():
    return HFPolicy(str(embedded_model_path()), temperature=0.0, max_new_tokens=6)


def test_two_turns_give_model_tokens_env_tokens_model_tokens(policy):
    chat = [
        {"role": "system", "content": "Answer with a number."},
        {"role": "user", "content": "What is 2 + 2?"},
    ]
    trace = TokenTrace()
    (first,) = policy.generate_traced([chat], [trace])
    n1 = len(trace.completion_ids)
    assert trace.prompt_ids and n1 > 0 and trace.env_mask == [1] * n1 and trace.turns == 1

    chat = [*chat, {"role": "assistant", "content": first}, {"role": "user", "content": "Wrong. Try again."}]
    (second,) = policy.generate_traced([chat], [trace])
    mask = trace.env_mask
    n_env = mask.index(1, n1) - n1  # the env's turn sits between the model's two turns
    assert n_env > 0 and mask[:n1] == [1] * n1 and mask[n1 : n1 + n_env] == [0] * n_env
    assert all(m == 1 for m in mask[n1 + n_env :]) and trace.turns == 2
    assert trace.turn_of[:n1] == [0] * n1 and set(trace.turn_of[n1 + n_env :]) == {1}

    # The masked tokens are exactly the chat template's rendering of the env's message: decoding the whole
    # trace gives the templated conversation, so training sees what generation saw.
    env_text = policy.tokenizer.decode(trace.completion_ids[n1 : n1 + n_env])
    assert "Wrong. Try again." in env_text and first not in env_text
    whole = policy.tokenizer.decode(trace.prompt_ids + trace.completion_ids)
    templated = policy.tokenizer.apply_chat_template(
        [*chat, {"role": "assistant", "content": second}], tokenize=False
    )
    whole = whole.rstrip()  # the template strips the reply's trailing space
    assert templated.startswith(whole)
    # Only the end-of-turn marker may be missing (the second reply hit max_new_tokens before it).
    assert templated[len(whole) :].strip() in ("", "<|im_end|>")


def test_a_traced_chat_must_continue_from_the_models_reply(policy):
    trace = TokenTrace()
    chat = [{"role": "user", "content": "Hi"}]
    policy.generate_traced([chat], [trace])
    with pytest.raises(ValueError, match="must end with the model's reply"):
        policy.env_text(chat, [{"role": "user", "content": "again"}], trace)

from __future__ import annotations

import pytest

from envs.support import SupportAction, SupportConfig, SupportEnvironment
from envs.support.data import GOAL_KINDS, build
from envs.support.oracle import hidden, null_action, oracle_action
from openenv_harness.checks import check_env
from openenv_harness.rubric import combine
from openenv_harness.runtime import InProcessProvider, LocalProcessProvider
from openenv_harness.spec import EnvError, ErrorCode


def _play(env: SupportEnvironment, policy, seed: int):  # type: ignore[no-untyped-def]
    obs = env.reset(seed=seed)
    while not obs.done:
        obs = env.step(SupportAction.model_validate(policy(obs.model_dump(mode="json"))))
    return obs


def _seed_of(kind: str) -> int:
    return next(s for s in range(200) if build(s)[1].kind == kind)


def test_seed_determines_database_goal_and_dialogue() -> None:
    assert build(5) == build(5)
    assert {build(s)[1].kind for s in range(30)} == set(GOAL_KINDS)
    a, b = SupportEnvironment(), SupportEnvironment()
    assert a.reset(seed=8).user_message == b.reset(seed=8).user_message
    msg = {"message": "What is your email?"}
    assert a.step(SupportAction(**msg)).user_message == b.step(SupportAction(**msg)).user_message


@pytest.mark.parametrize("kind", GOAL_KINDS)
def test_oracle_reaches_max_and_user_ends(kind: str) -> None:
    seed = _seed_of(kind)
    env = SupportEnvironment()
    h = hidden(seed)
    obs = _play(env, lambda o: oracle_action(o, h), seed)
    assert obs.metadata["user_ended"] is True
    assert obs.metadata["reward_components"] == {"db_match": 1.0, "communication": 1.0}
    assert obs.reward == pytest.approx(1.25)
    assert obs.reward == combine(obs.metadata["reward_components"], obs.metadata["reward_weights"])
    assert env.ground_truth()["expected_db"] == h["expected_db"]


def test_null_policy_scores_zero_within_max_steps() -> None:
    env = SupportEnvironment(max_steps=6)
    obs = _play(env, null_action, 1)
    assert obs.reward == 0.0 and env.state.step_count == 6 and obs.metadata["user_ended"] is False


def test_policy_rules_enforced_by_tools() -> None:
    seed = _seed_of("cancel")
    env = SupportEnvironment()
    env.reset(seed=seed)
    goal = env.ground_truth()["goal"]
    obs = env.step(SupportAction(tool="cancel_order", args={"order_id": goal["order_id"]}))
    assert "identify the customer" in (obs.tool_error or "")
    env.step(SupportAction(tool="find_customer", args={"email": goal["email"]}))
    db = env._desk.db  # type: ignore[union-attr]
    other = next(
        oid
        for oid, o in db["orders"].items()
        if o["customer_id"] == goal["customer_id"] and oid != goal["order_id"]
    )
    db_status = db["orders"][other]["status"]
    obs = env.step(SupportAction(tool="cancel_order", args={"order_id": other}))
    if db_status == "processing":
        assert obs.tool_error is None  # allowed, but it is the wrong order: db_match will fail
    else:
        assert f"is {db_status}, not processing" in (obs.tool_error or "")
    obs = env.step(SupportAction(tool="cancel_order", args={"order_id": goal["order_id"]}))
    assert obs.tool_error is None
    obs = env.step(SupportAction(message=f"Cancelled, refund {goal['must_say']}"))
    assert obs.done
    assert obs.metadata["reward_components"]["db_match"] == (0.0 if db_status == "processing" else 1.0)


def test_wrong_change_fails_db_match() -> None:
    seed = _seed_of("change_address")
    env = SupportEnvironment(max_steps=4)
    env.reset(seed=seed)
    goal = env.ground_truth()["goal"]
    env.step(SupportAction(tool="find_customer", args={"email": goal["email"]}))
    env.step(
        SupportAction(tool="update_address", args={"order_id": goal["order_id"], "address": "1 Wrong Way"})
    )
    obs = env.step(SupportAction(message=f"I updated order {goal['order_id']}."))
    assert not obs.done  # the user's goal is not met, so the user does not end the conversation
    obs = env.step(SupportAction(message="Bye."))
    assert obs.done and obs.metadata["user_ended"] is False
    assert obs.metadata["reward_components"] == {"db_match": 0.0, "communication": 1.0}


def test_missing_fact_fails_communication_after_the_user_asks_once() -> None:
    seed = _seed_of("change_address")
    env = SupportEnvironment()
    env.reset(seed=seed)
    goal = env.ground_truth()["goal"]
    env.step(SupportAction(tool="find_customer", args={"email": goal["email"]}))
    env.step(
        SupportAction(
            tool="update_address", args={"order_id": goal["order_id"], "address": goal["new_address"]}
        )
    )
    obs = env.step(SupportAction(message="I updated it."))
    assert not obs.done and "Which order number" in obs.user_message
    obs = env.step(SupportAction(message="The one you mentioned."))
    assert obs.done and obs.metadata["user_ended"] is True
    assert obs.metadata["reward_components"] == {"db_match": 1.0, "communication": 0.0}


def test_action_and_reset_validation() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        SupportAction.model_validate({"message": "hi", "tool": "get_order"})
    env = SupportEnvironment()
    with pytest.raises(EnvError) as info:
        env.step(SupportAction(message="hi"))
    assert info.value.code == ErrorCode.EPISODE_DONE
    with pytest.raises(EnvError, match="no task arguments"):
        env.reset(seed=0, goal="cancel")
    env.reset(seed=0)
    obs = env.step(SupportAction(tool="reset", args={}))
    assert "unknown tool 'reset'" in (obs.tool_error or "")
    obs = env.step(SupportAction(tool="get_order", args={"order_id": 5}))
    assert "order_id" in (obs.tool_error or "")
    with pytest.raises(ValueError, match="gamma"):
        SupportConfig(gamma=-1)
    with pytest.raises(ValueError, match="base_url"):
        SupportEnvironment(user={"kind": "llm"})


def test_reweighting_and_discounted_credits() -> None:
    seed = _seed_of("return")
    env = SupportEnvironment()
    env.configure(SupportConfig(weights={"db_match": 2.0, "communication": 0.0}, gamma=0.5), 4)
    h = hidden(seed)
    obs = _play(env, lambda o: oracle_action(o, h), seed)
    assert obs.reward == 2.0 and obs.metadata["config_version"] == 4
    assert obs.metadata["step_credits"] == pytest.approx([0.5, 1.0, 2.0])


def test_check_env_bare_in_process_and_over_ws() -> None:
    check_env(SupportEnvironment, oracle="envs.support.oracle", seeds=(0, 1, 2, 3)).raise_for_failures()
    with InProcessProvider(SupportEnvironment) as provider:
        check_env(provider, oracle="envs.support.oracle", seeds=(4, 5)).raise_for_failures()
    with LocalProcessProvider("support") as provider:
        check_env(provider, oracle="envs.support.oracle", seeds=(6, 7)).raise_for_failures()

import pytest
from pydantic import ValidationError

import openenv_harness as oh
from envs.echo import EchoAction, EchoEnvironment, EchoObservation
from openenv_harness.spec import (
    EnvError,
    ErrorCode,
    GenericObservation,
    check_target,
    observation_from_wire,
    observation_to_wire,
)


def test_wire_round_trip_keeps_metadata():
    obs = EchoObservation(
        message="hi", reward=0.2, done=True, metadata={"reward_components": {"length": 2.0}}
    )
    wire = observation_to_wire(obs)
    assert wire == {
        "observation": {"message": "hi", "greeting": ""},
        "reward": 0.2,
        "done": True,
        "metadata": {"reward_components": {"length": 2.0}},
    }
    assert observation_from_wire(wire, EchoObservation) == obs
    generic = observation_from_wire(
        {**wire, "observation": {**wire["observation"], "new": 1}}, GenericObservation
    )
    assert generic.model_extra == {"message": "hi", "greeting": "", "new": 1}


def test_actions_reject_unknown_fields():
    with pytest.raises(ValidationError, match="mesage"):
        EchoAction.model_validate({"mesage": "x"})


def test_registry_finds_entry_points_and_refuses_unknown_ids():
    assert "echo" in oh.registered()
    env = oh.make("echo", max_steps=1)
    assert isinstance(env, EchoEnvironment)
    with pytest.raises(KeyError, match="registered: .*echo"):
        oh.make("does-not-exist")


def test_seed_determines_first_observation():
    a, b = oh.make("echo"), oh.make("echo")
    assert a.reset(seed=7) == b.reset(seed=7)
    greetings = {oh.make("echo").reset(seed=s).greeting for s in range(20)}
    assert len(greetings) > 1


def test_echo_episode_ends_and_refuses_more_steps():
    env = oh.make("echo", max_steps=2)
    env.reset(seed=1)
    assert not env.step(EchoAction(message="a")).done
    assert env.step(EchoAction(message="bb")).done
    with pytest.raises(EnvError) as info:
        env.step(EchoAction(message="c"))
    assert info.value.code == ErrorCode.EPISODE_DONE


def test_check_target_allow_list():
    check_target("envs.echo:EchoEnvironment")
    check_target("rubrics.exact.ExactMatch")
    with pytest.raises(ValueError, match="refusing to import 'os:system'"):
        check_target("os:system")


def test_error_wire_round_trip():
    err = EnvError(ErrorCode.CAPACITY, "full", {"max_sessions": 2})
    back = EnvError.from_wire(err.to_wire())
    assert back.code == ErrorCode.CAPACITY and back.message == "full" and back.details == {"max_sessions": 2}

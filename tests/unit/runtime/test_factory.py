from __future__ import annotations

import pytest

from openenv_harness.runtime import (
    KINDS,
    InProcessProvider,
    LocalProcessProvider,
    Provider,
    RemoteProvider,
    make_provider,
)
from openenv_harness.spec import EnvError, ErrorCode


def test_kinds_and_aliases() -> None:
    assert set(KINDS) == {"inprocess", "local", "docker", "remote", "ray"}
    assert isinstance(make_provider("in-process", env="echo"), InProcessProvider)
    assert isinstance(make_provider("local_process", env="echo"), LocalProcessProvider)
    remote = make_provider("remote", urls="http://127.0.0.1:1,ws://127.0.0.1:2/ws")
    assert isinstance(remote, RemoteProvider) and isinstance(remote, Provider)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="needs env"):
        make_provider("inprocess")
    with pytest.raises(ValueError, match="n_servers"):
        LocalProcessProvider("echo", n_servers=0)
    with pytest.raises(ValueError, match="at least one"):
        RemoteProvider([])
    with pytest.raises(TypeError):
        LocalProcessProvider("echo", env_kwargs={"x": object()})  # not JSON: fails here, not in the child


def test_unstarted_provider_refuses_clients() -> None:
    with pytest.raises(EnvError) as info:
        RemoteProvider(["http://127.0.0.1:1"]).client()
    assert info.value.code == ErrorCode.CONNECTION_LOST
    assert "start()" in info.value.message


def test_inprocess_config_without_sockets() -> None:
    provider = InProcessProvider("echo", max_steps=2)
    assert provider.start() == [] and provider.urls == []
    snap = provider.push_config({"weights": {"length": 5.0}})[0]
    assert snap["config_version"] == 1
    with provider.client() as env:
        assert env.metadata()["server"] == "openenv_harness"
        assert "action" in env.schema()
        env.reset()
        assert env.step({"message": "a"}).reward == 5.0
    with pytest.raises(EnvError) as info:
        provider.push_config({"nope": 1})
    assert info.value.code == ErrorCode.CONFIG_INVALID


def test_docker_kind_is_a_provider() -> None:
    pytest.importorskip("docker")
    provider = make_provider("docker", env="echo", n_servers=2)
    assert isinstance(provider, Provider)
    assert provider.urls == []  # built, not started
    provider.stop()  # idempotent and harmless before start


def test_inprocess_client_honours_model_types() -> None:
    from openenv_harness.spec import GenericObservation

    provider = InProcessProvider("echo")
    with provider.client(observation_type=GenericObservation, request_timeout_s=3) as env:
        obs = env.reset(seed=0)
        assert (
            type(obs) is GenericObservation and obs.model_extra is not None and "greeting" in obs.model_extra
        )

"""Docker provider errors that need no engine: a clear message when none can be reached, bad arguments."""

from __future__ import annotations

import pytest

from openenv_harness.runtime._docker import DockerProvider
from openenv_harness.runtime._docker_engine import DockerUnavailable, docker_client
from openenv_harness.spec import EnvError


def test_no_engine_says_how_to_start_one(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(DockerUnavailable, match=r"start dockerd: bash scripts/dockerd.sh"):
        docker_client(timeout_s=2)
    provider = DockerProvider("echo")
    with pytest.raises(DockerUnavailable, match=r"no Docker engine answers at unix://"):
        provider.start()
    assert provider.urls == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n_servers": 0}, "n_servers"), ({"cpus": 0}, "cpus"), ({"pids_limit": 1}, "pids_limit")],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DockerProvider("echo", **kwargs)


def test_client_before_start_is_a_clear_error():
    with pytest.raises(EnvError, match=r"no running server: call start\(\)"):
        DockerProvider("echo").client()

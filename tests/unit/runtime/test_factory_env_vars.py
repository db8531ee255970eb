"""``env_vars`` through ``make_provider``: accepted per kind, validated without ever quoting a value."""

from __future__ import annotations

import pytest

from openenv_harness.runtime import InProcessProvider, LocalProcessProvider, make_provider

SECRET = "s3cr3t-value-never-shown"


def test_local_takes_env_vars_and_shows_names_only() -> None:
    provider = make_provider("local", env="echo", env_vars={"TOY_TOKEN": SECRET})
    assert isinstance(provider, LocalProcessProvider)
    assert provider.env_var_names == ["TOY_TOKEN"]
    assert SECRET not in repr(provider) and SECRET not in str(provider._command(0))
    assert make_provider("local", env="echo", env_vars=None).env_var_names == []  # type: ignore[attr-defined]


def test_inprocess_accepts_env_vars_as_a_no_op() -> None:
    provider = make_provider("inprocess", env="echo", env_vars={"TOY_TOKEN": SECRET})
    assert isinstance(provider, InProcessProvider)
    with provider, provider.client() as env:  # not handed to the environment as a constructor argument
        env.reset(seed=0)


def test_remote_refuses_env_vars_naming_them_not_their_values() -> None:
    with pytest.raises(ValueError, match="TOY_TOKEN") as info:
        make_provider("remote", urls=["http://127.0.0.1:1"], env_vars={"TOY_TOKEN": SECRET})
    assert SECRET not in str(info.value) and "where the servers run" in str(info.value)
    make_provider("remote", urls=["http://127.0.0.1:1"], env_vars={})  # nothing to deliver: fine


@pytest.mark.parametrize(
    ("env_vars", "match"),
    [
        ({"": SECRET}, "invalid environment variable name"),
        ({"A=B": SECRET}, "invalid environment variable name"),
        ({"TOY_TOKEN": 42}, r"env_vars\['TOY_TOKEN'\] must be a string"),
        ({"TOY_TOKEN": SECRET + "\0"}, "without NUL"),
        ({"OPENENV_HARNESS_TOKEN": SECRET}, "token="),
        ({"PYTHONUNBUFFERED": SECRET}, "set by the provider"),
    ],
)
def test_bad_env_vars_are_named_without_their_value(env_vars: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        LocalProcessProvider("echo", env_vars=env_vars)
    assert SECRET not in str(info.value)

"""echo, arith and coding pass check_env as served: in-process (server Session) and over WS (real server)."""

from __future__ import annotations

import pytest

from openenv_harness.checks import check_env
from openenv_harness.client import EnvClient
from openenv_harness.runtime import InProcessProvider, LocalProcessProvider
from openenv_harness.sandbox import bwrap_problem
from openenv_harness.spec import GenericAction

ORACLES = {"echo": None, "arith": "envs.arith.oracle", "coding": "envs.coding.oracle"}


def _skip_coding(env_id: str) -> None:
    if env_id == "coding" and bwrap_problem() is not None:
        pytest.skip(f"bwrap unavailable: {bwrap_problem()}")


@pytest.mark.parametrize("env_id", sorted(ORACLES))
def test_in_process(env_id: str) -> None:
    _skip_coding(env_id)
    with InProcessProvider(env_id) as provider:
        report = check_env(provider, oracle=ORACLES[env_id])
    report.raise_for_failures()
    assert report.status_of("seed_determinism") == "pass"


@pytest.mark.parametrize("env_id", sorted(ORACLES))
def test_over_ws(env_id: str) -> None:
    _skip_coding(env_id)
    with LocalProcessProvider(env_id) as provider:
        report = check_env(provider, oracle=ORACLES[env_id])
        report.raise_for_failures()
        if ORACLES[env_id]:
            assert report.status_of("oracle_max") == "pass"
            assert report.status_of("no_ground_truth") == "pass"
        # The server itself (not only client-side validation) refuses an unknown action field.
        with EnvClient(provider.urls[0], action_type=GenericAction) as raw:
            raw.reset(seed=0)
            with pytest.raises(Exception) as info:
                raw.step({"__not_a_field__": 1})
            assert getattr(info.value, "code", None) == "VALIDATION_ERROR"


def test_a_single_http_client_target() -> None:
    from openenv_harness.client import client_for

    with LocalProcessProvider("arith") as provider:
        client = client_for("arith", provider.urls[0], transport="http")
        try:
            report = check_env(client, oracle="envs.arith.oracle")
        finally:
            client.close()
    report.raise_for_failures()
    assert report.status_of("oracle_max") == "pass"

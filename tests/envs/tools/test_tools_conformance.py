"""The tools env passes check_env as a bare env, in-process behind the server Session, and over WS."""

from __future__ import annotations

from envs.tools import ToolsEnvironment
from openenv_harness.checks import check_env
from openenv_harness.runtime import InProcessProvider, LocalProcessProvider

SEEDS = (0, 1, 2, 3, 4, 5)


def test_check_env_bare() -> None:
    check_env(ToolsEnvironment, oracle="envs.tools.oracle", seeds=SEEDS).raise_for_failures()


def test_check_env_in_process_provider() -> None:
    with InProcessProvider(ToolsEnvironment) as provider:
        check_env(provider, oracle="envs.tools.oracle", seeds=SEEDS[:3]).raise_for_failures()


def test_check_env_over_ws() -> None:
    with LocalProcessProvider("tools") as provider:
        check_env(provider, oracle="envs.tools.oracle", seeds=SEEDS[:3]).raise_for_failures()

"""Providers with real servers on loopback: local processes, remote URLs, in-process, the factory."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from typing import Any

import pytest

from envs.echo import EchoObservation
from openenv_harness.runtime import (
    InProcessProvider,
    LocalProcessProvider,
    RemoteProvider,
    make_provider,
)
from openenv_harness.spec import EnvError, ErrorCode


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_push_config_reaches_every_server_of_a_pool() -> None:
    with LocalProcessProvider("echo", n_servers=3, token="tok") as provider:
        assert len(set(provider.urls)) == 3
        snaps = provider.push_config({"weights": {"length": 3.0}})
        assert [s["config"]["weights"]["length"] for s in snaps] == [3.0, 3.0, 3.0]
        assert [s["config_version"] for s in snaps] == [1, 1, 1]
        assert [s["config"]["weights"]["length"] for s in provider.get_config()] == [3.0] * 3
        clients = [provider.client() for _ in range(6)]
        try:
            assert sorted(c.base_url for c in clients) == sorted(provider.urls * 2)  # round-robin
            for c in clients:  # every server applies it at its sessions' next reset
                c.reset()
                obs = c.step({"message": "ab"})
                assert obs.reward == pytest.approx(6.0)
                assert obs.metadata["config_version"] == 1
                assert isinstance(obs, EchoObservation)
        finally:
            for c in clients:
                c.close()
        with pytest.raises(EnvError) as info:
            provider.push_config({"weights": {"length": -1.0}})
        assert info.value.code == ErrorCode.CONFIG_INVALID
        with pytest.raises(EnvError) as info:
            provider.push_config({"weights": {"length": 1.0}}, token="wrong")
        assert info.value.code == ErrorCode.UNAUTHORIZED


@pytest.mark.slow
def test_killed_server_is_detected_and_the_client_recovers() -> None:
    with LocalProcessProvider("echo", env_kwargs={"max_steps": 100}) as provider:
        env = provider.client(connect_timeout_s=20)
        env.reset(seed=1)
        env.step({"message": "before"})
        pid = provider.pids[0]
        # Kill the server while a slow step is in flight: that call must fail loudly, not hang.
        threading.Timer(0.3, os.killpg, (pid, signal.SIGKILL)).start()
        t0 = time.monotonic()
        with pytest.raises(EnvError) as info:
            env.step({"message": "sleep:5"})
        assert info.value.code == ErrorCode.CONNECTION_LOST
        assert "episode is lost" in info.value.message
        assert time.monotonic() - t0 < 4
        deadline = time.monotonic() + 5
        while provider.crashed() != [0] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert provider.crashed() == [0]
        with pytest.raises(EnvError) as info:  # no silent continuation of a dead episode
            env.step({"message": "after"})
        assert info.value.code == ErrorCode.CONNECTION_LOST
        # Recovery: reset reconnects; the provider restarts the crashed server on its port.
        obs = env.reset(seed=1)
        assert obs.greeting  # type: ignore[attr-defined]
        assert env.step({"message": "again"}).message == "again"  # type: ignore[attr-defined]
        assert env.state().step_count == 1
        assert provider.crashed() == []
        assert provider.pids[0] != pid
        env.close()


def test_client_fails_over_to_another_server_without_restart() -> None:
    with LocalProcessProvider("echo", n_servers=2, restart_crashed=False) as provider:
        env = provider.client(connect_timeout_s=10)
        env.reset()
        dead = provider.urls.index(env.base_url)
        os.killpg(provider.pids[dead], signal.SIGKILL)
        with pytest.raises(EnvError) as info:
            env.step({"message": "x"})
        assert info.value.code == ErrorCode.CONNECTION_LOST
        env.reset()  # reconnects to the surviving server
        assert env.base_url == provider.urls[1 - dead]
        assert env.step({"message": "y"}).message == "y"  # type: ignore[attr-defined]
        assert provider.crashed() == [dead]
        env.close()


def test_stop_kills_process_groups_and_is_idempotent() -> None:
    provider = LocalProcessProvider("echo", n_servers=2)
    provider.start()
    assert provider.start() == provider.urls  # idempotent start
    pids = provider.pids
    assert all(_alive(p) for p in pids)
    provider.stop()
    provider.stop()
    assert not any(_alive(p) for p in pids)
    assert provider.urls == []
    with pytest.raises(EnvError):
        provider.client()


def test_failed_start_reports_log_and_leaves_nothing() -> None:
    provider = LocalProcessProvider("echo", env_kwargs={"no_such_arg": 1}, startup_timeout_s=20)
    with pytest.raises(RuntimeError) as info:
        provider.start()
    assert "no_such_arg" in str(info.value)  # the server's own error, quoted from its log
    assert provider.pids == [] and provider.urls == []


def test_remote_provider_spreads_sessions() -> None:
    with LocalProcessProvider("echo", n_servers=2) as local:
        with RemoteProvider(",".join(u + "/ws" for u in local.urls), env_id="echo") as remote:
            assert remote.urls == local.urls
            clients = [remote.client() for _ in range(4)]
            assert sorted(c.base_url for c in clients) == sorted(local.urls * 2)
            for c in clients:
                c.reset()
                assert isinstance(c.step({"message": "r"}), EchoObservation)
                c.close()
            assert len(remote.push_config({"weights": {"length": 1.0}})) == 2
        assert remote.urls == []
        assert local.crashed() == []  # stopping a remote provider never stops the servers
    with pytest.raises(RuntimeError, match="not healthy"):
        RemoteProvider(["http://127.0.0.1:9"], startup_timeout_s=0.3).start()


def _script(env: Any) -> list[Any]:
    """One fixed sequence of operations; returns what each gave (observation dump or error code)."""
    out: list[Any] = []

    def rec(fn: Any, *args: Any, **kwargs: Any) -> None:
        try:
            value = fn(*args, **kwargs)
            out.append(value.model_dump() if hasattr(value, "model_dump") else value)
        except EnvError as exc:
            out.append(str(exc.code))

    rec(env.step, {"message": "too early"})
    rec(env.reset, seed=5, episode_id="e")
    rec(env.step, {"message": "abc"})
    rec(env.step, {"message": "__crash__"})
    rec(env.state)
    rec(env.step, {"message": "sleep:0.5"}, timeout_s=0.1)
    rec(env.step, {"message": "after timeout"})
    rec(env.reset, seed=5, episode_id="e", bogus=1)
    rec(env.reset, seed=6, episode_id="f")
    rec(env.step, {"message": "x"})
    rec(env.step, {"message": "y"})
    rec(env.step, {"message": "after done"})
    return out


def test_inprocess_behaves_like_ws() -> None:
    with InProcessProvider("echo", max_steps=2) as inproc:
        assert inproc.start() == []
        with inproc.client() as env:
            got_inproc = _script(env)
        inproc.push_config({"weights": {"length": 1.0}})
        with inproc.client() as env:
            env.reset()
            obs = env.step({"message": "abcd"})
            assert obs.reward == pytest.approx(4.0) and obs.metadata["config_version"] == 1
    with LocalProcessProvider("echo", env_kwargs={"max_steps": 2}) as local, local.client() as env:
        got_ws = _script(env)
    assert got_inproc == got_ws
    assert (
        "NOT_RESET" in got_ws and "ENV_ERROR" in got_ws and "TIMEOUT" in got_ws and "EPISODE_DONE" in got_ws
    )


def test_inprocess_async_clients_concurrent() -> None:
    provider = InProcessProvider("echo", max_steps=10)

    async def one(i: int) -> list[str]:
        async with provider.async_client() as env:
            await env.reset(seed=i)
            return [(await env.step({"message": f"{i}:{j}"})).message for j in range(3)]

    async def main() -> list[list[str]]:
        return await asyncio.gather(*(one(i) for i in range(16)))

    assert asyncio.run(main()) == [[f"{i}:{j}" for j in range(3)] for i in range(16)]


def test_make_provider_kinds() -> None:
    assert isinstance(make_provider("inprocess", env="echo", env_kwargs={"max_steps": 3}), InProcessProvider)
    assert isinstance(make_provider("local", env="echo", n_servers=2), LocalProcessProvider)
    assert isinstance(make_provider("remote", urls=["http://127.0.0.1:1"]), RemoteProvider)
    with pytest.raises(ValueError, match="unknown provider kind"):
        make_provider("kubernetes")
    with pytest.raises(ValueError, match="LocalProcessProvider"):
        make_provider("local", env="echo", n_server=2)


@pytest.mark.slow
def test_servers_die_with_the_interpreter() -> None:
    """A provider never stopped by its owner is stopped at interpreter exit (atexit): no orphan servers."""
    import subprocess
    import sys

    code = (
        "from openenv_harness.runtime import LocalProcessProvider\n"
        "p = LocalProcessProvider('echo', n_servers=2)\n"
        "p.start()\n"
        "print(*p.pids, flush=True)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    pids = [int(x) for x in out.stdout.split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in pids)


@pytest.mark.slow
def test_async_client_recovers_after_server_kill() -> None:
    """The harness's path: async pool clients, a server SIGKILLed mid-step, reset brings them back."""
    with LocalProcessProvider("echo", n_servers=2, env_kwargs={"max_steps": 100}) as provider:

        async def main() -> None:
            clients = [provider.async_client(connect_timeout_s=20) for _ in range(4)]
            for c in clients:
                await c.reset(seed=1)
            victim = provider.urls[0]
            asyncio.get_running_loop().call_later(0.3, os.killpg, provider.pids[0], signal.SIGKILL)
            results = await asyncio.gather(
                *(c.step({"message": "sleep:1.5"}) for c in clients), return_exceptions=True
            )
            for c, r in zip(clients, results, strict=True):
                if c.base_url == victim:
                    assert isinstance(r, EnvError) and r.code == ErrorCode.CONNECTION_LOST
                else:
                    assert isinstance(r, EchoObservation) and r.message == "sleep:1.5"
            for c in clients:  # every client, on either server, is usable after a reset
                await c.reset(seed=2)
                assert (await c.step({"message": "ok"})).message == "ok"  # type: ignore[attr-defined]
                await c.close()

        asyncio.run(main())
        assert provider.crashed() == []


@pytest.mark.slow
def test_restart_moves_to_a_new_port_when_the_old_one_is_taken() -> None:
    import socket

    with LocalProcessProvider("echo") as provider:
        env = provider.client(connect_timeout_s=20)
        env.reset()
        old_url, old_port = provider.urls[0], int(provider.urls[0].rsplit(":", 1)[1])
        os.killpg(provider.pids[0], signal.SIGKILL)
        provider._servers[0].proc.wait(5)
        squatter = socket.socket()
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the old port has TIME_WAIT entries
        try:
            squatter.bind(("127.0.0.1", old_port))
            squatter.listen()
            new_url = provider.restart(0)
        finally:
            squatter.close()
        assert new_url != old_url and provider.urls == [new_url]
        with pytest.raises(EnvError):
            env.step({"message": "x"})
        env.reset()  # reconnects through the provider's picker, to the new port
        assert env.base_url == new_url
        assert env.step({"message": "moved"}).message == "moved"  # type: ignore[attr-defined]
        env.close()


def test_stop_is_quick_with_open_sessions() -> None:
    provider = LocalProcessProvider("echo", n_servers=3)
    provider.start()
    clients = [provider.client() for _ in range(3)]
    for c in clients:
        c.reset()
    t0 = time.monotonic()
    provider.stop()
    assert time.monotonic() - t0 < 5
    for c in clients:
        with pytest.raises(EnvError):
            c.step({"message": "x"})
        c.close()

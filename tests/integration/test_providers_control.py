"""Provider control path and secrets on real local servers: kept control clients, token-guarded reads, env_vars.

Every server here is a real ``python -m openenv_harness.server`` subprocess on 127.0.0.1.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from openenv_harness.runtime import LocalProcessProvider, RemoteProvider, make_provider
from openenv_harness.spec import EnvError, ErrorCode

TOKEN = "orchestrator-tok"
SECRET = "s3cr3t-9f1c2e-only-in-the-environment"


def test_one_control_client_per_server_reused_and_closed_on_stop() -> None:
    provider = LocalProcessProvider("echo", n_servers=2, token=TOKEN)
    with provider:
        provider.push_config({"weights": {"length": 2.0}})
        apis = dict(provider._controls)
        assert sorted(apis) == sorted(provider.urls)
        pools = {url: api._http for url, api in apis.items()}
        assert all(pool is not None for pool in pools.values())
        for i in range(3):
            snaps = provider.push_config({"weights": {"length": 3.0 + i}})
            assert [s["config"]["weights"]["length"] for s in snaps] == [3.0 + i] * 2
        # Same ControlAPI and the same keep-alive pool for every push and for reads.
        assert [s["config_version"] for s in provider.get_config()] == [4, 4]
        assert provider._controls == apis and all(api._http is pools[u] for u, api in apis.items())
        # Errors are reported as before: the first server's, with the server's code.
        with pytest.raises(EnvError) as info:
            provider.push_config({"weights": {"lenght": 1.0}})
        assert info.value.code == ErrorCode.CONFIG_INVALID and "weights.lenght" in info.value.message
        with pytest.raises(EnvError) as info:
            provider.push_config({"weights": {"length": 1.0}}, token="wrong")
        assert info.value.code == ErrorCode.UNAUTHORIZED
    assert provider._controls == {} and all(api._http is None for api in apis.values())
    assert provider._control_pool is None  # push threads shut down with the clients
    with pytest.raises(EnvError) as info:  # stopped: nobody to push to
        provider.push_config({"weights": {"length": 1.0}})
    assert info.value.code == ErrorCode.CONNECTION_LOST
    assert provider.get_config() == []


def test_concurrent_pushes_from_many_threads_share_the_clients() -> None:
    with LocalProcessProvider("echo", n_servers=2, token=TOKEN) as provider:
        errors: list[BaseException] = []
        versions: list[int] = []
        lock = threading.Lock()
        start = threading.Barrier(4)

        def push(t: int) -> None:
            try:
                start.wait()  # first use from 4 threads at once: one ControlAPI and one pool per server
                for i in range(5):
                    snaps = provider.push_config({"weights": {"length": float(t * 10 + i)}})
                    with lock:
                        versions.extend(s["config_version"] for s in snaps)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=push, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
        assert len(provider._controls) == 2
        assert sorted(versions) == sorted(list(range(1, 21)) * 2)  # 20 pushes applied on each server


def test_get_config_sends_the_token_and_a_tokenless_provider_is_refused() -> None:
    with LocalProcessProvider("echo", n_servers=2, token=TOKEN) as provider:
        provider.push_config({"weights": {"length": 0.5}})
        assert [s["config"]["weights"]["length"] for s in provider.get_config()] == [0.5, 0.5]
        assert httpx.get(f"{provider.urls[0]}/config", timeout=10).status_code == 401
        with provider.client() as env:  # clients handed out carry the provider's token
            assert env.get_config()["config"]["weights"]["length"] == 0.5
        outsider = RemoteProvider(provider.urls)  # same servers, no token
        with outsider:
            with pytest.raises(EnvError) as info:
                outsider.get_config()
            assert info.value.code == ErrorCode.UNAUTHORIZED
            assert [s["config_version"] for s in outsider.get_config(token=TOKEN)] == [1, 1]


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.decode().split("=", 1) for item in raw.split(b"\0") if b"=" in item)


def test_env_vars_reach_the_server_process_and_nothing_else() -> None:
    provider = make_provider("local", env="echo", n_servers=2, token=TOKEN, env_vars={"TOY_SECRET": SECRET})
    assert isinstance(provider, LocalProcessProvider)
    with provider:
        for pid in provider.pids:
            assert _environ(pid)["TOY_SECRET"] == SECRET  # the server process has it ...
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            assert SECRET not in cmdline and TOKEN not in cmdline  # ... but `ps` cannot show it
        with provider.client() as env:  # the servers work as usual
            env.reset(seed=1)
            assert env.step({"message": "ab"}).reward is not None
        logdir = Path(provider._logdir or "")
        logs = sorted(logdir.glob("*.log"))
        assert len(logs) == 2
        assert all(SECRET not in p.read_text(errors="replace") for p in logs)


def test_a_failing_start_does_not_leak_env_vars_into_the_error() -> None:
    provider = LocalProcessProvider("no_such_env_xyz", env_vars={"TOY_SECRET": SECRET}, startup_timeout_s=30)
    with pytest.raises(RuntimeError) as info:
        provider.start()
    message = str(info.value)
    assert "no_such_env_xyz" in message and "exited" in message  # a useful error with the log tail ...
    assert SECRET not in message  # ... that does not carry the value
    assert provider.urls == [] and provider._logdir is None  # cleaned up


def test_push_after_a_server_restart_uses_a_fresh_connection() -> None:
    import os
    import signal

    with LocalProcessProvider("echo", n_servers=2, token=TOKEN) as provider:
        provider.push_config({"weights": {"length": 2.0}})  # keep-alive connections to both servers open
        os.killpg(provider.pids[0], signal.SIGKILL)
        provider._servers[0].proc.wait(10)
        # A push restarts a crashed server first (a schedule's next push must not fail the run), over a
        # fresh connection: the kept one to the dead process would say "connection reset".
        snaps = provider.push_config({"weights": {"length": 3.0}})
        assert [s["config"]["weights"]["length"] for s in snaps] == [3.0, 3.0]
        provider.restart(0)
        snaps = provider.push_config({"weights": {"length": 4.0}})
        assert [s["config"]["weights"]["length"] for s in snaps] == [4.0, 4.0]
        assert sorted(provider._controls) == sorted(provider.urls)  # a URL that moved left no stale client


def test_push_right_after_a_kill_restarts_the_server_and_is_delivered() -> None:
    """The kill lands between the crash check and the push (the process is not reaped yet): no CONNECTION_LOST."""
    import os
    import signal

    with LocalProcessProvider("echo", n_servers=2, token=TOKEN) as provider:
        for i in range(3):
            provider.push_config({"weights": {"length": 2.0 + i}})  # keep-alive connections to both servers
            os.killpg(provider.pids[i % 2], signal.SIGKILL)  # no wait: the push below races the kernel
            snaps = provider.push_config({"weights": {"length": 5.0 + i}})
            assert [s["config"]["weights"]["length"] for s in snaps] == [5.0 + i, 5.0 + i]
        assert provider.restarts == 3

"""The ray provider's pieces that need no Ray cluster: sizing, seats, placement messages, config mapping."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import pytest

from openenv_harness.config import ConfigError
from openenv_harness.config._compose import compose_config
from openenv_harness.rollout._runtime import ray_kwargs
from openenv_harness.runtime import RayProvider, make_provider
from openenv_harness.runtime._ray import replica_count
from openenv_harness.runtime._ray_boot import wants_loopback
from openenv_harness.runtime._ray_health import RayPlacementError, check_fits, describe_pending
from openenv_harness.runtime._ray_pool import Replica, Seat, SeatTable
from openenv_harness.spec import EnvError, ErrorCode


def test_replica_count() -> None:
    assert replica_count(None, 1, 8, 0) == 1
    assert replica_count(None, 3, 8, 0) == 3  # num_servers when nothing else says
    assert replica_count(None, 1, 10, 4) == 3  # ceil(sessions / sessions_per_replica)
    assert replica_count(5, 1, 10, 4) == 5  # an explicit count wins
    with pytest.raises(ValueError, match="runtime.replicas"):
        replica_count(0, 1, 8, 0)


def _table(n: int) -> SeatTable:
    table = SeatTable()
    table.replicas = [Replica(index=i, actor=None, url=f"http://127.0.0.1:{9000 + i}") for i in range(n)]
    for r in table.replicas:
        table.go_live(r)
    return table


def test_seats_go_to_the_least_loaded_live_replica() -> None:
    table = _table(3)
    seats = [Seat() for _ in range(7)]
    urls = [table.take(s, time.monotonic() + 1) for s in seats]
    assert [u[-1] for u in urls] == ["0", "1", "2", "0", "1", "2", "0"]
    table.go_dead(table.replicas[0])
    moved = table.take(seats[0], time.monotonic() + 1)  # a reconnect of a client of the dead replica
    assert moved.endswith("9001")  # replicas 1 and 2 hold 2 each: the lower index
    assert [r.sessions for r in table.replicas] == [2, 3, 2]
    table.release(seats[1])
    assert table.replicas[1].sessions == 2
    assert table.urls() == ["http://127.0.0.1:9001", "http://127.0.0.1:9002"]


def test_a_reconnect_leaves_its_replica_when_another_is_live() -> None:
    table = _table(2)
    seat = Seat()
    first = table.take(seat, time.monotonic() + 1)
    # Its connection was lost (the monitor has not noticed anything yet): it goes to the other replica even
    # though that one is not less loaded, and back when there is no other.
    assert table.take(seat, time.monotonic() + 1) != first
    table.go_dead(table.replicas[1])
    assert table.take(seat, time.monotonic() + 1) == first


def test_no_live_replica_waits_for_a_replacement_then_fails() -> None:
    table = _table(1)
    table.go_dead(table.replicas[0])
    with pytest.raises(EnvError) as info:
        table.take(Seat(), time.monotonic() + 0.2)
    assert info.value.code == ErrorCode.CONNECTION_LOST
    fresh = Replica(index=0, actor=None, url="http://127.0.0.1:9100")
    table.replace(fresh)
    threading.Timer(0.2, table.go_live, args=(fresh,)).start()
    assert table.take(Seat(), time.monotonic() + 5) == "http://127.0.0.1:9100"


class _FakeRay:
    def __init__(self, total: dict[str, float], free: dict[str, float]) -> None:
        self.total, self.free = total, free

    def cluster_resources(self) -> dict[str, float]:
        return self.total

    def available_resources(self) -> dict[str, float]:
        return self.free


def test_placement_errors_name_what_replicas_need() -> None:
    ray: Any = _FakeRay({"CPU": 2.0, "memory": 2**33, "node:127.0.0.1": 1.0}, {"CPU": 0.5})
    check_fits(ray, 4, {"num_cpus": 0.5})  # 4 x 0.5 CPU fit 2 CPUs
    with pytest.raises(RayPlacementError, match=r"runtime.replicas=4 x \{CPU=1\}.*short of CPU"):
        check_fits(ray, 4, {"num_cpus": 1.0})
    with pytest.raises(RayPlacementError, match="short of env_host"):
        check_fits(ray, 1, {"num_cpus": 1.0, "resources": {"env_host": 1}})
    text = describe_pending(ray, 1, 3, {"num_cpus": 1.0, "memory": 2**29}, 60)
    assert "1 of 3 Ray env replicas not serving after 60s" in text
    assert "{CPU=1, memory=512MiB}" in text and "node:" not in text


def test_loopback_is_kept_for_local_and_loopback_addresses() -> None:
    assert wants_loopback(None) and wants_loopback("auto") and wants_loopback("127.0.0.1:6379")
    assert not wants_loopback("10.0.0.5:6379")
    assert wants_loopback("10.0.0.5:6379", loopback=True) and not wants_loopback(None, loopback=False)


def test_provider_arguments_from_the_runtime_config() -> None:
    cfg = compose_config(["runtime=ray", "runtime.sessions=10", "runtime.sessions_per_replica=4"])
    kw = ray_kwargs(cfg.runtime, "echo", {"max_steps": 2}, 1024)
    assert kw["replicas"] == 3 and kw["num_cpus"] == 1.0 and kw["memory"] is None and kw["address"] is None
    # The taskset manifest's resources (runtime.target.limits) apply unless the runtime sets its own.
    cfg.runtime.target = {"limits": {"cpus": 0.5, "mem_limit": 2**29}}
    kw = ray_kwargs(cfg.runtime, "echo", {}, 1024)
    assert kw["num_cpus"] == 0.5 and kw["memory"] == 2**29
    cfg.runtime.cpus_per_replica = 2.0
    cfg.runtime.memory_per_replica = "1g"
    cfg.runtime.address = "auto"
    kw = ray_kwargs(cfg.runtime, "echo", {}, 1024)
    assert (kw["num_cpus"], kw["memory"], kw["address"]) == (2.0, "1g", "auto")
    provider = make_provider("ray", **kw)
    assert isinstance(provider, RayProvider) and provider.memory == 2**30


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="replicas"):
        RayProvider("echo", replicas=0)
    with pytest.raises(ValueError, match="runtime.cpus_per_replica"):
        RayProvider("echo", num_cpus=-1)
    with pytest.raises(ValueError, match="runtime.memory_per_replica"):
        RayProvider("echo", memory="lots")
    with pytest.raises(ValueError, match="env_vars"):
        RayProvider("echo", env_vars={"A=B": "x"})


def test_without_ray_one_line_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"pip install 'openenv-harness\[ray\]'"):
        make_provider("ray", env="echo")


def test_taskset_secrets_reach_the_replicas_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OH_TEST_SECRET", "s3cret")
    provider = make_provider("ray", env="echo", env_from=["OH_TEST_SECRET"])
    assert provider._env_vars == {"OH_TEST_SECRET": "s3cret"}  # handed to each actor, set in its process
    monkeypatch.delenv("OH_TEST_SECRET")
    with pytest.raises(ValueError, match="OH_TEST_SECRET not set"):
        make_provider("ray", env="echo", env_from=["OH_TEST_SECRET"])

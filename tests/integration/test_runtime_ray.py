"""runtime=ray on a multi-node Ray cluster simulated on this machine (``ray.cluster_utils.Cluster``).

One cluster for the module (Ray start-up is slow here): a head node with no CPUs (nothing lands on it) and
three worker nodes of one CPU each advertising ``env_host``; replicas ask for one CPU and ``env_host``, so
each node holds at most one. Everything binds 127.0.0.1 (checked on every socket of the cluster's processes).
The tests run in file order and share the nodes: the spread test uses all three, the eval test kills one of
its two replicas' nodes (the replacement lands on the third), the training test kills its one replica's node.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from openenv_harness.runtime import RayProvider
from openenv_harness.runtime._ray_boot import SINGLE_MACHINE_VAR, pin_loopback

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = {"127.0.0.1", "::ffff:127.0.0.1"}
NODE_ARGS: dict[str, Any] = {"node_ip_address": "127.0.0.1", "object_store_memory": 78 * 2**20}
SERVING = re.compile(r"ray: (\w+) replica (\d+) serving at (\S+) on node ([0-9a-f]+)")


def _descendants(pids: list[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            out.add(pid)
            out.update(c.pid for c in proc.children(recursive=True))
        except psutil.NoSuchProcess:
            continue
    return out


def _cluster_pids(cluster: Cluster) -> set[int]:
    nodes = [cluster.head_node, *cluster.worker_nodes]
    pids = [info.process.pid for node in nodes for infos in node.all_processes.values() for info in infos]
    return _descendants(pids)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    # This node is 127.0.0.1 (the CLI runs inherit the variable); the cluster's files, and the address file
    # that `ray.init(address="auto")` reads, live in a private folder, out of other Ray users' way.
    saved = {k: os.environ.get(k) for k in (SINGLE_MACHINE_VAR, "RAY_TMPDIR")}
    pin_loopback()
    os.environ["RAY_TMPDIR"] = tempfile.mkdtemp(prefix="rayt-")
    c = Cluster(
        initialize_head=True,
        head_node_args={**NODE_ARGS, "num_cpus": 0, "include_dashboard": False},
    )
    try:
        for _ in range(3):
            c.add_node(**NODE_ARGS, num_cpus=1, resources={"env_host": 1})
        yield c
    finally:
        pids = _cluster_pids(c)
        if ray.is_initialized():
            ray.shutdown()
        c.shutdown()
        deadline = time.monotonic() + 15
        while (left := [p for p in pids if _alive(p)]) and time.monotonic() < deadline:
            time.sleep(0.2)
        shutil.rmtree(os.environ["RAY_TMPDIR"], ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        assert not left, f"Ray processes left behind: {left}"


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _non_loopback(pids: set[int]) -> list[str]:
    bad = []
    for conn in psutil.net_connections(kind="inet"):
        if conn.pid not in pids:
            continue
        for addr in (conn.laddr, conn.raddr):
            if addr and addr.ip not in LOOPBACK:
                bad.append(f"pid {conn.pid} {conn.status} {conn.laddr} -> {conn.raddr}")
    return bad


def test_replicas_spread_over_nodes_sessions_least_loaded_config_everywhere(cluster: Cluster) -> None:
    workers = {n.node_id for n in cluster.worker_nodes}
    provider = RayProvider(
        "echo", replicas=3, address=cluster.address, resources={"env_host": 1}, startup_timeout_s=90
    )
    with provider:
        placed = provider.placements()
        assert {p["node_id"] for p in placed} == workers  # one replica per worker node, none on the head
        assert all(p["url"].startswith("http://127.0.0.1:") for p in placed)
        clients = [provider.client() for _ in range(6)]
        assert [p["sessions"] for p in provider.placements()] == [2, 2, 2]
        snaps = provider.push_config({"weights": {"length": 3.0}})
        assert [s["config_version"] for s in snaps] == [1, 1, 1]
        for client in clients:
            client.reset(seed=5)
            assert client.step({"message": "abc"}).reward == pytest.approx(9.0)
        # Every socket of the cluster's processes (GCS, raylets, agents, workers) and of this driver.
        bad = _non_loopback(_cluster_pids(cluster) | {os.getpid()})
        assert not bad, "Ray left loopback:\n" + "\n".join(bad)
        for client in clients:
            client.close()
    assert not ray.is_initialized()  # the provider connected, so it disconnected


def test_providers_of_one_process_share_the_connection_the_first_made(cluster: Cluster) -> None:
    # A mixture's runtimes, or training beside an in-training eval: the first to stop must not take Ray down.
    first = RayProvider("echo", address=cluster.address, resources={"env_host": 1}, startup_timeout_s=90)
    second = RayProvider("echo", address=cluster.address, resources={"env_host": 1}, startup_timeout_s=90)
    with first:
        second.start()
    try:
        client = second.client()
        client.reset(seed=1)
        assert client.step({"message": "hi"}).reward is not None
        client.close()
    finally:
        second.stop()
    assert not ray.is_initialized()


class _Cli:
    """The harness CLI as a child process joined to the cluster; output in a file the test watches."""

    def __init__(self, args: list[str], cwd: Path, name: str) -> None:
        self.log = cwd / f"{name}.log"
        self.run_dir = cwd / f"{name}-run"
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "openenv_harness", *args, f"hydra.run.dir={self.run_dir}"],
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, ready: Callable[[], bool], timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while not ready():
            if self.proc.poll() is not None:
                pytest.fail(f"the run ended before the kill point:\n{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail(f"the run did not reach the kill point:\n{self.output()[-3000:]}")
            time.sleep(0.05)

    def finish(self, timeout_s: float = 150) -> str:
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"the run did not finish:\n{self.output()[-3000:]}")
        out = self.output()
        assert self.proc.returncode == 0, out[-3000:]
        return out

    def replica(self, index: int) -> tuple[str, str]:
        """``(url, node id)`` of replica ``index`` of this run, as its log announced it."""
        found = {m.group(2): (m.group(3), m.group(4)) for m in SERVING.finditer(self.output())}
        return found[str(index)]

    def kill_node_of_replica(self, cluster: Cluster, index: int) -> str:
        """Remove (ungracefully) the node replica ``index`` of this run serves from; returns its id."""
        node_id = self.replica(index)[1]
        (node,) = [n for n in cluster.worker_nodes if n.node_id == node_id]
        cluster.remove_node(node, allow_graceful=False)
        return node_id


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def _scrub(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records without what may differ between runs (wall times, the first error of a retried episode)."""
    out = [{k: v for k, v in r.items() if k not in ("timings", "retried")} for r in records]
    return sorted(out, key=lambda r: (r["eval"], r["task_id"], r["sample"]))


def _ray_args(cluster: Cluster, replicas: int) -> list[str]:
    return [
        "runtime=ray",
        f"runtime.address={cluster.address}",
        f"runtime.replicas={replicas}",
        "+runtime.replica_resources.env_host=1",
        "runtime.startup_timeout_s=90",
        "runtime.sessions=4",
    ]


ECHO_SLOW = ["env=echo", "env.kwargs.max_steps=3", "env.max_turns=3", "+env.kwargs.step_delay_s=0.25"]


@pytest.mark.timeout(300)
def test_node_killed_mid_eval_bundle_equals_uninterrupted_run(cluster: Cluster, tmp_path: Path) -> None:
    eval_args = ["mode=eval", *ECHO_SLOW, "policy=scripted", "eval.num_tasks=16", *_ray_args(cluster, 2)]
    clean = _Cli([*eval_args, f"eval.out={tmp_path / 'clean'}"], tmp_path, "clean")
    clean.finish()

    hit = _Cli([*eval_args, f"eval.out={tmp_path / 'hit'}"], tmp_path, "hit")
    hit.wait_for(lambda: len(_lines(tmp_path / "hit" / "episodes.jsonl")) >= 4)  # wave 2 is in flight
    hit.kill_node_of_replica(cluster, 0)
    hit.finish()  # (the run may end before Ray reports the replica dead; its replacement: the training test)

    results = [json.loads((tmp_path / name / "results.json").read_text()) for name in ("clean", "hit")]
    assert results[0] == results[1]
    assert results[1]["evals"]["echo"]["n_episodes"] == 16
    assert results[1]["evals"]["echo"]["error_rate"] == 0.0
    records = [_lines(tmp_path / name / "episodes.jsonl") for name in ("clean", "hit")]
    assert len(records[1]) == 16  # nothing lost, nothing duplicated
    assert _scrub(records[0]) == _scrub(records[1])
    # The episodes in flight on the killed node's replica were errors, run again on the other replica.
    dead_url = hit.replica(0)[0]
    retried = [r for r in records[1] if "retried" in r]
    assert retried and all(
        f"CONNECTION_LOST: step: connection to {dead_url} lost" in r["retried"] for r in retried
    )


@pytest.mark.timeout(240)
def test_node_killed_mid_training_run_finishes(cluster: Cluster, tmp_path: Path) -> None:
    steps, per_step = 4, 4
    run = _Cli(
        [
            *ECHO_SLOW,
            "policy=scripted",
            "learner=collect",
            f"learner.max_steps={steps}",
            "learner.group_size=2",
            "learner.groups_per_step=2",
            "logger=quiet",
            *_ray_args(cluster, 1),
        ],
        tmp_path,
        "train",
    )
    episodes = run.run_dir / "episodes.jsonl"
    run.wait_for(lambda: len(_lines(episodes)) >= per_step)  # step 0 written, step 1 in flight
    node_id = run.kill_node_of_replica(cluster, 0)
    out = run.finish()
    assert f"on node {node_id}) is gone" in out and "env replica 0 replaced" in out, out[-3000:]
    record = json.loads((run.run_dir / "run.json").read_text())
    assert record["status"] == "finished" and record["steps"] == steps
    assert record["metrics"]["server_restarts"] == 1  # the replacement replica
    by_step: dict[int, list[dict[str, Any]]] = {}
    for ep in _lines(episodes):
        by_step.setdefault(ep["step"], []).append(ep)
    assert sum(len(v) for v in by_step.values()) == steps * per_step
    lost = [ep for ep in by_step[1] if ep["error"]]
    assert lost and all("CONNECTION_LOST" in ep["error"] for ep in lost)
    # The last step ran on the replacement with the schedule's weight (conf/schedule/echo.yaml): the pushes
    # were replayed to it, then the step's own push reached it.
    last = by_step[steps - 1]
    assert all(ep["error"] is None for ep in last)
    for ep in last:
        assert ep["turns"][0]["weights"]["length"] == pytest.approx(0.1 - 0.01 * (steps - 1))

"""Docker provider against a real engine: build, run echo in containers, drive it, limits, no leftovers.

CI (scripts/test.sh) starts dockerd first; where no engine can be reached every test here skips with the
reason (also emitted as a warning, so it shows in pytest's summary).
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

from openenv_harness.client import ControlAPI
from openenv_harness.runtime._docker import DockerProvider
from openenv_harness.runtime._docker_build import BASE_IMAGE, HASH_LABEL, ensure_env_image
from openenv_harness.runtime._docker_engine import (
    PROVIDER_LABEL,
    docker_client,
    engine_available,
    managed_containers,
    owner_labels,
    remove_leftovers,
)
from openenv_harness.spec import EnvError, ErrorCode

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def docker():
    ok, reason = engine_available()
    if not ok:
        warnings.warn(f"docker tests skipped: {reason}", stacklevel=1)
        pytest.skip(reason)
    client = docker_client(timeout_s=900)
    yield client
    client.close()


@pytest.fixture(scope="module")
def echo_image(docker):
    return ensure_env_image(docker, "echo")


def _by_label(docker, provider_id: str) -> list:
    return docker.containers.list(all=True, filters={"label": f"{PROVIDER_LABEL}={provider_id}"})


def test_image_is_cached_by_content_and_holds_only_the_pinned_server_deps(docker, echo_image):
    again = ensure_env_image(docker, "echo")
    # Other engineers edit the sources of a shared dev tree: a changed hash is a legitimate rebuild.
    if again.content_hash == echo_image.content_hash:
        assert again.id == echo_image.id and again.build_s == 0.0
    image = docker.images.get(again.id)
    assert image.labels[HASH_LABEL] == again.content_hash
    frozen = docker.containers.run(
        again.id, ["python", "-m", "pip", "freeze"], remove=True, network_disabled=True
    )
    # "name==version" or "name @ file:///..." (the project's own wheel); names normalised as in the lock.
    names = [re.split(r"==| @ ", line)[0] for line in frozen.decode().splitlines() if line.strip()]
    installed = {n.lower().replace("_", "-") for n in names}
    lock = (Path(__file__).parents[2] / "docker" / "requirements-server.lock").read_text()
    pinned = {line.split("==")[0] for line in lock.splitlines() if "==" in line}
    assert installed == pinned | {"openenv-harness"}


def test_echo_in_a_container_reset_step_config_limits_and_no_leftovers(docker, echo_image):
    from envs.echo import EchoAction

    provider = DockerProvider(
        "echo",
        n_servers=2,
        env_kwargs={"max_steps": 3},
        token="s3cret",
        cpus=0.5,
        mem_limit="256m",
        pids_limit=64,
        env_vars={"TASKSET_API_KEY": "value-for-the-env"},
    )
    with provider:
        assert provider.image_digest == provider.containers[0].image.id
        assert HASH_LABEL in provider.containers[0].image.labels
        assert len(provider.urls) == 2 and all(u.startswith("http://127.0.0.1:") for u in provider.urls)
        with provider.client() as client:
            first = client.reset(seed=3)
            assert first.greeting
            obs = client.step(EchoAction(message="hello"))
            assert obs.message == "hello" and obs.reward == pytest.approx(0.5)
            assert not client.step(EchoAction(message="a")).done
            assert client.step(EchoAction(message="b")).done  # env_kwargs reached the server: max_steps=3
        with pytest.raises(EnvError) as err:  # the token reached the server too
            ControlAPI(provider.urls[0], token="wrong").push_config({"weights": {"length": 1.0}})
        assert err.value.code == ErrorCode.UNAUTHORIZED
        snapshots = provider.push_config({"weights": {"length": 1.0}})
        assert [s["config_version"] for s in snapshots] == [1, 1]
        for _ in range(2):  # round-robin: both servers took the new config
            with provider.client() as client:
                client.reset(seed=3)
                obs = client.step(EchoAction(message="hello"))
                assert obs.reward == pytest.approx(5.0) and obs.metadata["config_version"] == 1

        container = provider.containers[0]
        container.reload()
        assert "TASKSET_API_KEY=value-for-the-env" in container.attrs["Config"]["Env"]
        assert "value-for-the-env" not in " ".join(container.attrs["Config"]["Cmd"] or [])
        host = container.attrs["HostConfig"]
        assert host["PidsLimit"] == 64
        assert host["Memory"] == 256 * 2**20
        assert host["NanoCpus"] == 500_000_000
        assert host["ReadonlyRootfs"] is True
        assert host["CapDrop"] == ["ALL"]
        assert {b["HostIp"] for b in host["PortBindings"]["8000/tcp"]} == {"127.0.0.1"}
        assert container.attrs["Config"]["User"] == "65534:65534"

        # The limits bite: threads stop at the pids limit, and a hog is OOM-killed (exit 137).
        code, out = container.exec_run(
            [
                "python",
                "-c",
                "import threading,time\nn=0\ntry:\n  while n<1000:\n"
                "    threading.Thread(target=time.sleep,args=(5,),daemon=True).start(); n+=1\n"
                "except RuntimeError: pass\nprint(n)",
            ]
        )
        assert code == 0 and 0 < int(out.decode().strip()) < 64, out
        code, _ = container.exec_run(
            ["python", "-c", "b = bytearray(600 * 2**20); b[::4096] = b'x' * len(b[::4096])"]
        )
        assert code == 137
        with provider.client() as client:  # the server survived its neighbour's OOM kill
            client.reset(seed=1)
            assert client.step(EchoAction(message="ok")).message == "ok"

        # A server that dies (here: SIGKILL) is restarted by the engine on a new port; new clients get it.
        old_url = provider.urls[0]
        kill = (
            "import os\nfor p in os.listdir('/proc'):\n  if p.isdigit():\n"
            "    c = open(f'/proc/{p}/cmdline', 'rb').read()\n"
            "    if c.startswith(b'python\\0-m\\0openenv_harness.server'): os.kill(int(p), 9)"
        )
        container.exec_run(["python", "-c", kill])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            container.reload()
            if container.attrs["RestartCount"] == 1 and container.status == "running":
                break
            time.sleep(0.2)
        assert container.attrs["RestartCount"] == 1
        time.sleep(1.1)  # pick_url refreshes ports at most once a second
        for _ in range(2):
            with provider.client(connect_timeout_s=20) as client:
                client.reset(seed=2)
                assert client.step(EchoAction(message="back")).message == "back"
        assert provider.urls[0] != old_url
    assert provider.urls == []
    assert _by_label(docker, provider.provider_id) == []


def test_failed_start_removes_its_containers(docker, echo_image):
    provider = DockerProvider("echo", server_args=["--no-such-flag"], startup_timeout_s=30)
    with pytest.raises(RuntimeError, match="exited before it was healthy"):
        provider.start()
    assert _by_label(docker, provider.provider_id) == []


def test_containers_are_removed_at_interpreter_exit(docker, echo_image):
    script = textwrap.dedent(
        """
        from openenv_harness.runtime._docker import DockerProvider
        p = DockerProvider("echo")
        p.start()
        print(p.provider_id, flush=True)
        # no stop(): the atexit hook must remove the container
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    provider_id = proc.stdout.strip().splitlines()[-1]
    assert len(provider_id) == 12
    assert _by_label(docker, provider_id) == []


def test_leftovers_of_a_dead_process_are_swept(docker, echo_image):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    labels = owner_labels("sweeptest0000")
    labels["org.openenv-harness.owner-pid"] = dead.stdout.strip()
    container = docker.containers.create(BASE_IMAGE, ["sleep", "30"], labels=labels)
    try:
        assert container.name in remove_leftovers(docker)
        assert managed_containers(docker, "sweeptest0000") == []
    finally:
        for c in managed_containers(docker, "sweeptest0000"):
            c.remove(force=True)

"""Hostile programs through a real coding server, each contained while another session keeps being served.

Every test runs one hostile program in one WS session of a ``python -m openenv_harness.server`` process while a
bystander session on the same server keeps running ``print(...)`` steps; the hostile step must come back
with a contained result, the bystander must never fail, and the server must still serve new sessions after.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from openenv_harness.runtime import LocalProcessProvider
from openenv_harness.sandbox import bwrap_problem
from openenv_harness.sandbox._uids import DEFAULT_UID_BASE, DEFAULT_UID_COUNT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bwrap_problem() is not None, reason=f"bwrap unavailable: {bwrap_problem()}"),
]

WALL_S = 3.0
KWARGS = {"wall_s": WALL_S, "cpu_s": 3, "max_turns": 10_000, "memory_mb": 1024, "nproc": 64, "disk_mb": 16}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalProcessProvider]:
    with LocalProcessProvider("coding", env_kwargs=KWARGS) as provider:
        yield provider


class Bystander:
    """A second session that keeps stepping while the hostile program runs."""

    def __init__(self, provider: LocalProcessProvider) -> None:
        self.client = provider.client()
        self.client.reset(seed=1)
        self.ok = 0
        self.errors: list[str] = []
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            i += 1
            t0 = time.perf_counter()
            try:
                obs = self.client.step({"code": f"print({i} * 2)"})
            except Exception as exc:  # noqa: BLE001 - any failure is what the test reports
                self.errors.append(repr(exc))
                return
            self.latencies.append(time.perf_counter() - t0)
            if obs.stdout != f"{i * 2}\n" or obs.exit_code != 0:
                self.errors.append(f"step {i}: {obs.stdout!r} {obs.stderr!r} {obs.exit_code}")
            else:
                self.ok += 1
            time.sleep(0.02)

    def __enter__(self) -> Bystander:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.client.close()


def _sandbox_processes() -> list[str]:
    out = subprocess.run(["ps", "-eo", "uid=,pid=,comm="], capture_output=True, text=True, check=True).stdout
    lo, hi = DEFAULT_UID_BASE, DEFAULT_UID_BASE + DEFAULT_UID_COUNT
    return [line for line in out.splitlines() if lo <= int(line.split()[0]) < hi]


def hostile(provider: LocalProcessProvider, code: str, language: str = "python") -> dict:
    """Run ``code`` in a fresh session beside a bystander; return the observation fields and the elapsed time."""
    with Bystander(provider) as bystander:
        time.sleep(0.2)
        client = provider.client()
        try:
            client.reset(seed=0)
            t0 = time.perf_counter()
            obs = client.step({"code": code, "language": language})
            elapsed = time.perf_counter() - t0
            after = client.step({"code": "print('still here')"})  # the session itself survives too
            assert after.stdout == "still here\n"
        finally:
            client.close()
        time.sleep(0.2)
    assert not bystander.errors, bystander.errors
    assert bystander.ok >= 2, "the bystander session was not served while the hostile program ran"
    assert max(bystander.latencies) < WALL_S + 2
    # The server still takes new sessions.
    fresh = provider.client()
    try:
        fresh.reset(seed=2)
        assert fresh.step({"code": "print(42)"}).stdout == "42\n"
    finally:
        fresh.close()
    # Killed processes can take a moment to be reaped after their pid namespace goes away.
    deadline = time.monotonic() + 5
    while _sandbox_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _sandbox_processes() == [], "sandboxed processes outlived their run"
    return {**obs.model_dump(), "elapsed": elapsed}


def test_infinite_loop(server: LocalProcessProvider) -> None:
    r = hostile(server, "while True:\n    pass\n")
    assert r["timed_out"] or r["exit_code"] < 0
    assert r["elapsed"] < WALL_S + 2


def test_fork_bomb_python(server: LocalProcessProvider) -> None:
    # The bystander keeps forking its own sandboxes meanwhile: each sandbox has its own uid, so its own budget.
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    r = hostile(server, code)
    assert r["timed_out"] and r["elapsed"] < WALL_S + 3


def test_fork_bomb_bash(server: LocalProcessProvider) -> None:
    # The script keeps running after starting the bomb. Without the ``sleep``, the top-level shell exits at
    # once and bwrap tears its pid namespace down, sometimes before any fork has failed (a race that once
    # failed CI). Held open, the bomb has to run into the uid's nproc budget and then the wall clock.
    r = hostile(server, ":(){ :|:& };:; sleep 60", language="bash")
    assert "Resource temporarily unavailable" in r["stderr"]
    assert r["timed_out"] and r["elapsed"] < WALL_S + 3


def test_allocating_8_gib(server: LocalProcessProvider) -> None:
    r = hostile(server, "x = bytearray(8 * 1024**3)\nprint('ALLOCATED')")
    assert "MemoryError" in r["stderr"] and "ALLOCATED" not in r["stdout"]


def test_network_connections(server: LocalProcessProvider) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    code = (
        "import socket\n"
        f"for addr in [('127.0.0.1', {port}), ('1.1.1.1', 53), ('example.com', 80)]:\n"
        "    try:\n"
        "        socket.create_connection(addr, timeout=1)\n"
        "        print('CONNECTED', addr)\n"
        "    except OSError as e:\n"
        "        print('blocked', addr, type(e).__name__)\n"
    )
    try:
        r = hostile(server, code)
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()
    assert "CONNECTED" not in r["stdout"] and r["stdout"].count("blocked") == 3


def test_writing_outside_the_work_dir(server: LocalProcessProvider, tmp_path: Path) -> None:
    token = secrets.token_hex(8)
    host_tmp = Path(f"/tmp/openenv-escape-{token}")
    target = tmp_path / "escape.txt"
    code = (
        "import os\n"
        f"for p in [{str(target)!r}, {str(host_tmp)!r}, '/etc/passwd', '/usr/lib/escape', '/root/escape', "
        "'../escape', '/escape']:\n"
        "    try:\n"
        "        with open(p, 'a') as f:\n"
        "            f.write('pwned')\n"
        "        print('WROTE', p)\n"
        "    except OSError as e:\n"
        "        print('refused', p, type(e).__name__)\n"
    )
    passwd_before = Path("/etc/passwd").read_bytes()
    r = hostile(server, code)
    # /tmp and '../', '/' writes may land in the sandbox's own tmpfs/root, never on the host.
    assert not target.exists() and not host_tmp.exists()
    assert not Path("/usr/lib/escape").exists() and not Path("/root/escape").exists()
    assert not Path("/escape").exists()
    assert Path("/etc/passwd").read_bytes() == passwd_before
    assert f"WROTE {target}" not in r["stdout"]


def test_filling_the_disk(server: LocalProcessProvider) -> None:
    code = (
        "n = 0\n"
        "try:\n"
        "    while True:\n"
        "        open(f'fill{n}', 'wb').write(b'x' * (1 << 20))\n"
        "        n += 1\n"
        "except OSError as e:\n"
        "    print('stopped after', n, 'MiB, errno', e.errno)\n"
    )
    r = hostile(server, code)
    assert r["stdout"].startswith("stopped after") and int(r["stdout"].split()[2]) <= 16


def test_reading_a_secret_outside_the_work_dir(server: LocalProcessProvider, tmp_path: Path) -> None:
    token = "SECRET-" + secrets.token_hex(12)
    planted = [tmp_path / "secret.txt", Path(f"/tmp/openenv-secret-{secrets.token_hex(4)}.txt")]
    for path in planted:
        path.write_text(token)
        path.chmod(0o644)
    try:
        paths = ", ".join(repr(str(p)) for p in planted)
        code = (
            f"for p in [{paths}, '/proc/1/environ', '/root/.bash_history']:\n"
            "    try:\n"
            "        print(open(p).read())\n"
            "    except OSError as e:\n"
            "        print('unreadable', p, type(e).__name__)\n"
        )
        r = hostile(server, code)
        shell = hostile(server, f"cat {planted[1]} {planted[0]}; ls -la /tmp", language="bash")
    finally:
        for path in planted:
            path.unlink()
    for out in (r, shell):
        assert token not in out["stdout"] and token not in out["stderr"]
    assert r["stdout"].count("unreadable") >= 2


def test_flooding_stdout(server: LocalProcessProvider) -> None:
    r = hostile(server, "while True:\n    print('x' * 65536)\n")
    assert r["truncated"] and len(r["stdout"].encode()) <= 64 * 1024
    # Killed once it produced 16x the cap, long before its wall-clock limit.
    assert "flooding" in r["message"] and r["elapsed"] < WALL_S


def test_killing_its_parent(server: LocalProcessProvider) -> None:
    code = (
        "import os, signal\n"
        "for target in [os.getppid(), 1, -1]:\n"
        "    try:\n"
        "        os.kill(target, signal.SIGKILL)\n"
        "        print('sent', target)\n"
        "    except OSError as e:\n"
        "        print('refused', target, type(e).__name__)\n"
        "print('survived')\n"
    )
    r = hostile(server, code)
    assert server.crashed() == []
    # Its parent is the sandbox's pid-1 (bwrap, root-owned): the kill is refused; nothing else is reachable.
    assert "refused 1 PermissionError" in r["stdout"] and "survived" in r["stdout"]
    assert "sent" not in r["stdout"]


def test_many_slow_programs_do_not_starve_other_sessions(server: LocalProcessProvider) -> None:
    # More concurrent slow programs than the server has worker threads: programs run as asyncio
    # subprocesses (the env's step_async), so the bystander is still answered promptly.
    clients = [server.client() for _ in range(10)]
    try:
        for c in clients:
            c.reset(seed=0)
        with Bystander(server) as bystander:
            threads = [
                threading.Thread(target=c.step, args=({"code": "import time; time.sleep(2.5)"},))
                for c in clients
            ]
            for t in threads:
                t.start()
            time.sleep(2.0)
            served_while_busy = bystander.ok
            for t in threads:
                t.join(timeout=10)
    finally:
        for c in clients:
            c.close()
    assert not bystander.errors, bystander.errors
    assert served_while_busy >= 5, f"only {served_while_busy} bystander steps while 10 programs slept"
    assert max(bystander.latencies) < 1.5

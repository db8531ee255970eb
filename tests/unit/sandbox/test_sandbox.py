"""The bubblewrap sandbox on this host: isolation, limits, work dir lifecycle, uid leases, explicit 'none'."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from openenv_harness.sandbox import (
    MAX_CODE_BYTES,
    WORKSPACE,
    Sandbox,
    SandboxConfig,
    SandboxLimits,
    SandboxUnavailable,
    UidPool,
    UidPoolExhausted,
    bwrap_problem,
)

pytestmark = pytest.mark.skipif(
    bwrap_problem() is not None, reason=f"bwrap sandbox unavailable: {bwrap_problem()}"
)

FAST = SandboxConfig(limits=SandboxLimits(wall_s=3.0, cpu_s=3))


@pytest.fixture
def sb():
    with Sandbox(FAST) as box:
        yield box


def test_python_runs_as_an_unprivileged_uid_in_the_workspace(sb: Sandbox) -> None:
    r = sb.run("import os; print(os.getuid(), os.getgid(), os.getcwd())")
    assert r.ok and not r.truncated
    uid, gid, cwd = r.stdout.split()
    assert int(uid) == sb.uid and int(gid) == sb.uid and int(uid) >= 1000
    assert cwd == WORKSPACE


def test_bash_and_stderr_and_exit_code(sb: Sandbox) -> None:
    r = sb.run("echo out; echo err >&2; exit 3", "bash")
    assert (r.stdout, r.stderr, r.exit_code, r.timed_out) == ("out\n", "err\n", 3, False)


def test_files_persist_across_runs_and_vanish_at_close() -> None:
    box = Sandbox(FAST)
    host_dir = box.work_dir
    assert box.run("open('notes.txt', 'w').write('kept')").ok
    r = box.run("cat notes.txt", "bash")
    assert r.stdout == "kept"
    assert (host_dir / "notes.txt").read_text() == "kept"
    box.close()
    assert not host_dir.exists()
    box.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        box.run("print(1)")


def test_work_dirs_left_by_a_crashed_process_are_swept() -> None:
    pool = UidPool(base=62100, count=1, lock_dir=Path(tempfile.mkdtemp()))
    stale = Path(tempfile.mkdtemp(prefix="openenv-sbx-"))
    (stale / "leftover").write_text("x")
    os.chown(stale, 62100, 62100)
    with Sandbox(FAST, uid_pool=pool) as box:
        assert box.uid == 62100
        assert not stale.exists()
        assert box.work_dir.exists()


def test_work_dir_size_is_capped() -> None:
    with Sandbox(SandboxConfig(limits=SandboxLimits(wall_s=5, disk_mb=4))) as box:
        if not box.size_limited:
            pytest.skip("this host does not allow mounting a tmpfs for the work dir")
        r = box.run(
            "n = 0\n"
            "try:\n"
            "    for i in range(64):\n"
            "        open(f'f{i}', 'wb').write(b'x' * (1 << 20))\n"
            "        n += 1\n"
            "except OSError as e:\n"
            "    print('stopped', n, e.errno)\n"
        )
        assert r.stdout.startswith("stopped") and int(r.stdout.split()[1]) <= 4
        assert r.stdout.split()[2] == "28"  # ENOSPC
        mount = box.work_dir
        assert os.path.ismount(mount)
    assert not os.path.exists(mount)


def test_host_filesystem_is_invisible_and_readonly(sb: Sandbox) -> None:
    r = sb.run(
        "import os\n"
        "print(sorted(os.listdir('/')), sorted(os.listdir('/etc')))\n"
        "for p in ['/usr/x', '/etc/x', '/x']:\n"
        "    try:\n"
        "        open(p, 'w')\n"
        "        print('WROTE', p)\n"
        "    except OSError as e:\n"
        "        print('refused', p, type(e).__name__)\n"
    )
    assert "WROTE" not in r.stdout
    listing = r.stdout.splitlines()[0]
    for hidden in ("'home'", "'work'", "'var'", "'passwd'", "'shadow'"):
        assert hidden not in listing
    assert "['ld.so.cache']" in listing  # the only file of the host's /etc


def test_environment_is_clean(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENENV_TEST_SECRET", "do-not-leak")
    r = sb.run("import os; print(dict(os.environ))")
    assert "do-not-leak" not in r.stdout
    assert "HOME" in r.stdout


def test_wall_clock_timeout_kills_sleepers(sb: Sandbox) -> None:
    r = sb.run("import time; time.sleep(60)", timeout_s=0.5)
    assert r.timed_out and r.exit_code < 0 and r.duration_s < 3


def test_output_is_capped_and_marked() -> None:
    cfg = SandboxConfig(limits=SandboxLimits(wall_s=5, output_bytes=1000))
    with Sandbox(cfg) as box:
        r = box.run(
            "import sys\nfor _ in range(100): sys.stdout.write('y' * 100)\nprint('end', file=sys.stderr)"
        )
        assert r.truncated and len(r.stdout) == 1000 and r.stderr == "end\n" and r.exit_code == 0


def test_output_flood_is_killed_early() -> None:
    cfg = SandboxConfig(limits=SandboxLimits(wall_s=10, output_bytes=1000))
    with Sandbox(cfg) as box:
        r = box.run("while True: print('z' * 1000)")
        assert r.output_flood and r.truncated and not r.timed_out and r.exit_code < 0
        assert r.duration_s < 5 and len(r.stdout) == 1000


def test_unread_stdin_does_not_block_past_the_deadline(sb: Sandbox) -> None:
    r = sb.run("import time; time.sleep(30)", stdin="x" * 1_000_000, timeout_s=0.5)
    assert r.timed_out and r.duration_s < 3


def test_memory_limit(sb: Sandbox) -> None:
    r = sb.run("x = bytearray(8 * 1024**3)")
    assert r.exit_code == 1 and "MemoryError" in r.stderr


def test_file_size_limit() -> None:
    cfg = SandboxConfig(limits=SandboxLimits(wall_s=5, file_size_mb=1))
    with Sandbox(cfg) as box:
        r = box.run("open('big', 'wb').write(b'x' * (2 * 1024 * 1024))")
        assert r.exit_code != 0
        assert os.path.getsize(box.work_dir / "big") <= 1024 * 1024


def test_no_network(sb: Sandbox) -> None:
    r = sb.run(
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 53), timeout=1)\n"
        "    print('CONNECTED')\n"
        "except OSError as e:\n"
        "    print('refused', type(e).__name__)\n"
    )
    assert "refused" in r.stdout and "CONNECTED" not in r.stdout


def test_code_size_and_nul_bytes_are_refused(sb: Sandbox) -> None:
    with pytest.raises(ValueError, match="at most"):
        sb.run("#" * (MAX_CODE_BYTES + 1))
    with pytest.raises(ValueError, match="NUL"):
        sb.run("print(1)\x00")
    with pytest.raises(ValueError, match="language"):
        sb.run("print(1)", "ruby")  # type: ignore[arg-type]


def test_stdin_is_fed(sb: Sandbox) -> None:
    assert sb.run("import sys; print(sys.stdin.read().upper())", stdin="abc").stdout == "ABC\n"


def test_concurrent_sandboxes_get_distinct_uids() -> None:
    with Sandbox(FAST) as a, Sandbox(FAST) as b:
        assert a.uid != b.uid


def test_uid_pool_leases_are_exclusive_across_pools(tmp_path) -> None:
    # Two pools over one lock dir behave like two server processes on one host.
    p1 = UidPool(base=62000, count=2, lock_dir=tmp_path)
    p2 = UidPool(base=62000, count=2, lock_dir=tmp_path)
    a, b = p1.acquire(), p2.acquire()
    assert a.uid != b.uid
    with pytest.raises(UidPoolExhausted, match="in use"):
        p1.acquire()
    b.release()
    c = p1.acquire()
    assert c.uid == b.uid
    a.release()
    c.release()
    assert p1.in_use() == 0
    with pytest.raises(ValueError):
        UidPool(base=0)


def test_unavailable_sandbox_refuses_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("openenv_harness.sandbox._sandbox.bwrap_problem", lambda: "bwrap is not installed")
    with pytest.raises(SandboxUnavailable, match="bwrap is not installed.*sandbox: none"):
        Sandbox()


def test_mode_none_must_be_explicit_and_runs_unsandboxed() -> None:
    with Sandbox(SandboxConfig(mode="none", limits=SandboxLimits(wall_s=3))) as box:
        r = box.run("import os; print(os.getcwd())")
        assert r.ok and r.stdout.strip() == str(box.work_dir)
        assert box.uid is None


def test_no_processes_survive_a_run(sb: Sandbox) -> None:
    sb.run("import subprocess; subprocess.Popen(['sleep', '30']); print('spawned')", "python")
    out = subprocess.run(["ps", "-u", str(sb.uid), "-o", "pid="], capture_output=True, text=True).stdout
    assert out.strip() == ""

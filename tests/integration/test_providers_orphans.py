"""A SIGKILLed orchestrator leaves no env server behind (they watch their parent pid)."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def test_servers_exit_when_the_orchestrator_is_sigkilled(tmp_path: Path) -> None:
    script = tmp_path / "orchestrator.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, time
            from openenv_harness.runtime import LocalProcessProvider
            p = LocalProcessProvider("echo", n_servers=2)
            p.start()
            print(" ".join(str(s.proc.pid) for s in p._servers), flush=True)
            time.sleep(600)
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    pids = [int(x) for x in line.split()]
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    assert not any(_alive(p) for p in pids), "env servers outlived their SIGKILLed orchestrator"


def test_parent_pid_must_be_the_parent() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "openenv_harness.server", "--env", "echo", "--parent-pid", "1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 2 and "--parent-pid 1 is not this process's parent" in out.stderr

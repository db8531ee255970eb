"""Watchdog of a local Ray instance: cleans up after a harness process that died without stopping it.

``ray.shutdown()`` stops everything a local instance started. A harness killed with SIGKILL cannot call it:
Ray's GCS and raylet then exit, but its dashboard and runtime-env agents were seen to stay behind (re-parented
to init, still running a minute later). The provider therefore gives its local instance a private temp dir
and starts this script beside it (a plain file run by path: it imports nothing of the package, so it costs a
bare interpreter); once its parent is gone, it kills every process whose command line names that dir and
removes the dir. A normal stop ends the watchdog after ``ray.shutdown()``.

Usage: ``python _ray_reaper.py PARENT_PID TEMP_DIR``.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time


def instance_pids(marker: str) -> list[int]:
    """Processes (other than this one) whose command line contains ``marker``, from /proc."""
    needle, out = marker.encode(), []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                if needle in f.read():
                    out.append(int(name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return out


def reap(marker: str, grace_s: float = 2.0) -> list[int]:
    """SIGTERM, then SIGKILL, every process of the instance; remove its dir. Returns the pids found."""
    pids = instance_pids(marker)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except OSError:
                continue
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and any(p in instance_pids(marker) for p in pids):
            time.sleep(0.1)
    shutil.rmtree(marker, ignore_errors=True)
    return pids


def main(argv: list[str]) -> int:
    """Wait for the parent to go away, then reap (see the module docstring)."""
    parent, marker = int(argv[1]), argv[2]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # the provider's normal stop
    while os.getppid() == parent:
        time.sleep(1.0)
    reap(marker)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Per-sandbox memory and process limits with cgroup v1 child groups.

rlimits are per process (``RLIMIT_AS``) or per uid (``RLIMIT_NPROC``): 64 processes may each use
``memory_mb``. A cgroup bounds the whole sandbox: every process it starts joins one ``memory`` group
(``memory.limit_in_bytes`` and, where swap accounting exists, ``memory.memsw.limit_in_bytes``, so swap is
no way around it) and one ``pids`` group (``pids.max``). Over the memory limit the kernel's OOM killer
kills a process of the group; over the pids limit ``fork`` fails.

The groups are ``/sys/fs/cgroup/{memory,pids}/openenv_harness/uid-<uid>``, named after the sandbox's
leased uid: while a uid is leased no one else uses its name, so a group left by a crashed server is
simply emptied and reused. A process joins before it execs anything (``sh -c 'echo $$ > .../cgroup.procs;
exec ...'``), so nothing it forks escapes. :meth:`SandboxCgroup.kill_all` ends every process of the
sandbox, whatever its pid namespace or process group; closing a sandbox calls it.

This needs root and cgroup v1 controllers mounted read-write (see ``../shared/FACTS.md``);
:func:`cgroup_problem` says why not when they are missing, and the sandbox then runs with rlimits only.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import time
from pathlib import Path

ROOT = Path(os.environ.get("OPENENV_HARNESS_CGROUP_ROOT", "/sys/fs/cgroup"))
PARENT = "openenv_harness"
CONTROLLERS = ("memory", "pids")


@functools.lru_cache(maxsize=1)
def cgroup_problem() -> str | None:
    """Why per-sandbox cgroups cannot be used here, or None when they can (probed once per process)."""
    if os.geteuid() != 0:
        return "creating cgroups needs root"
    for ctl in CONTROLLERS:
        base = ROOT / ctl
        if not (base / "cgroup.procs").exists():
            return f"no cgroup v1 {ctl!r} controller at {base}"
        try:
            (base / PARENT).mkdir(exist_ok=True)
        except OSError as exc:
            return f"cannot create {base / PARENT}: {exc}"
    return None


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


class SandboxCgroup:
    """One sandbox's memory and pids groups.

    Args:
        name: Group name (unique among live sandboxes on the host, e.g. ``uid-61000``).
        memory_mb: Memory (RAM + swap) of all the sandbox's processes together, in MiB.
        pids: Processes and threads of the sandbox together.
    """

    def __init__(self, name: str, memory_mb: int, pids: int) -> None:
        self.dirs = {ctl: ROOT / ctl / PARENT / name for ctl in CONTROLLERS}
        for path in self.dirs.values():
            path.mkdir(exist_ok=True)
        self.kill_all()  # left by a crashed process that held the same uid
        mem = self.dirs["memory"]
        limit = str(memory_mb * 1024 * 1024)
        # memsw >= memory always holds: raise memsw first when growing, lower memory first when shrinking.
        memsw = mem / "memory.memsw.limit_in_bytes"
        for attempt in range(2):
            try:
                _write(mem / "memory.limit_in_bytes", limit)
                if memsw.exists():
                    _write(memsw, limit)
                break
            except OSError:
                if attempt or not memsw.exists():
                    raise
                _write(memsw, "-1")
        _write(self.dirs["pids"] / "pids.max", str(pids))

    def join_argv(self, argv: list[str]) -> list[str]:
        """``argv`` run so that its first process joins both groups before it execs."""
        procs = " ".join(f"{p}/cgroup.procs" for p in self.dirs.values())
        script = f'for f in {procs}; do echo $$ > "$f" || exit 125; done; exec "$@"'
        return ["/bin/sh", "-c", script, "sh", *argv]

    def pids(self) -> list[int]:
        """Processes in the sandbox now."""
        try:
            text = (self.dirs["pids"] / "cgroup.procs").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def peak_memory_bytes(self) -> int | None:
        """Highest memory use of the sandbox so far (None when unreadable)."""
        try:
            return int((self.dirs["memory"] / "memory.max_usage_in_bytes").read_text())
        except (OSError, ValueError):
            return None

    def kill_all(self, timeout_s: float = 5.0) -> bool:
        """SIGKILL every process of the sandbox until none is left; True when the group is empty."""
        deadline = time.monotonic() + timeout_s
        while True:
            pids = self.pids()
            if not pids:
                return True
            for pid in pids:  # pids.max bounds how fast a fork bomb can refill the list
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)

    def close(self) -> None:
        """Kill what is left and remove the groups (idempotent)."""
        self.kill_all()
        for path in self.dirs.values():
            for _ in range(50):  # a killed process leaves the group once it is reaped
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)

"""What the two long-running interpreters of a sandbox share: process handling, output caps, restarts.

A session keeps one interpreter (a Python kernel, a bash shell) alive inside the episode's sandbox, so
variables, imports, the working directory and the environment persist from one cell to the next. Each
interpreter is its own bubblewrap instance (own pid namespace and ``/tmp``) in the sandbox (same uid,
``/workspace``, cgroup and limits). Rules every session follows:

- a cell that passes its timeout is interrupted (SIGINT to the interpreter's process group inside the
  sandbox); if it has not stopped ``grace_s`` later, the interpreter is killed and started again and the
  result says so (``restarted``, ``note``);
- an interpreter that dies (a crash, ``os._exit``, ``exit`` in bash) is started again at once and the
  result says so;
- output is capped per stream (``limits.output_bytes``), and a cell that floods is interrupted;
- :meth:`Session.close` kills the interpreter and everything it started (the pid namespace dies with it,
  and the sandbox's cgroup catches anything else when the sandbox closes).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from ._result import ExecResult

if TYPE_CHECKING:
    from ._sandbox import Sandbox

FLOOD_FACTOR = 16


class Capped:
    """One output stream of a cell: keeps ``cap`` bytes, counts the rest."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.buf = bytearray()
        self.produced = 0

    def add(self, data: bytes) -> None:
        """Keep what fits, count everything."""
        room = self.cap - len(self.buf)
        if room > 0:
            self.buf += data[:room]
        self.produced += len(data)

    @property
    def truncated(self) -> bool:
        """More was produced than kept."""
        return self.produced > self.cap

    @property
    def flooded(self) -> bool:
        """Produced far more than the cap: stop the cell instead of reading on."""
        return self.produced > FLOOD_FACTOR * self.cap

    def text(self) -> str:
        """What was kept, decoded."""
        return self.buf.decode("utf-8", "replace")


def inner_pid(outer: int, timeout_s: float = 5.0) -> int | None:
    """The host pid of the program bwrap runs (pid 2 of its namespace): bwrap -> bwrap init -> program."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pid = outer
        for _ in range(2):
            try:
                with open(f"/proc/{pid}/task/{pid}/children") as f:
                    kids = f.read().split()
            except OSError:
                return None
            if not kids:
                break
            pid = int(kids[0])
        else:
            return pid
        time.sleep(0.005)
    return None


class Session(ABC):
    """One long-running interpreter in a sandbox.

    Args:
        sandbox: The episode's sandbox.
        grace_s: How long an interrupted cell may take to stop before the interpreter is restarted.
        start_timeout_s: How long the interpreter may take to start.
    """

    language = ""

    def __init__(self, sandbox: Sandbox, *, grace_s: float = 1.0, start_timeout_s: float = 30.0) -> None:
        self.sandbox = sandbox
        self.grace_s = grace_s
        self.start_timeout_s = start_timeout_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None  # the interpreter, as the host sees it
        self.pgid: int | None = None  # its process group (bwrap's init leads it: --new-session)
        self.restarts = 0

    @property
    def alive(self) -> bool:
        """The interpreter is running."""
        return self.proc is not None and self.proc.poll() is None

    def run(self, code: str, *, timeout_s: float | None = None) -> ExecResult:
        """Run one cell; state persists to the next. A timeout, crash or flood is a result, not an error."""
        limits = self.sandbox.config.limits
        wall = min(limits.wall_s, timeout_s) if timeout_s and timeout_s > 0 else limits.wall_s
        if not self.alive:
            self._restart()
        start = time.perf_counter()
        result = self._cell(code, start + wall, limits.output_bytes)
        return ExecResult(**{**result.to_dict(), "duration_s": time.perf_counter() - start})

    def interrupt(self) -> None:
        """SIGINT to the interpreter's process group inside the sandbox (what Ctrl-C would do)."""
        # The group's leader is bwrap's init, which ignores SIGINT (no handler, pid-namespace init), so
        # this reaches the interpreter and whatever it runs in the foreground.
        if self.pgid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pgid, signal.SIGINT)

    def _restart(self) -> None:
        self._stop()
        self._start()
        self.pid = inner_pid(self.proc.pid) if self.proc is not None else None
        self.pgid = None
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                self.pgid = os.getpgid(self.pid)

    def _restarted(self, result: ExecResult, why: str) -> ExecResult:
        """``result`` after restarting the interpreter because ``why``."""
        self.restarts += 1
        self._restart()
        note = f"{why}; the {self.language} interpreter was restarted and its state (variables, imports, "
        note += "working directory) is lost"
        return ExecResult(**{**result.to_dict(), "restarted": True, "note": note})

    def _stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # bwrap goes, its pid namespace with it
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
            self._release()
        self.proc = None
        self.pid = self.pgid = None

    def close(self) -> None:
        """Kill the interpreter and whatever it started (idempotent)."""
        self._stop()

    @abstractmethod
    def _start(self) -> None:
        """Start the interpreter (sets ``self.proc``) and wait until it takes cells."""

    @abstractmethod
    def _cell(self, code: str, deadline: float, cap: int) -> ExecResult:
        """Run ``code`` until ``deadline`` (``time.perf_counter``); interrupt/restart as the rules say."""

    @abstractmethod
    def _release(self) -> None:
        """Drop per-process resources (pipes) after the interpreter is gone."""

"""Spawn a command, capture capped output, enforce a wall-clock limit by killing its process group."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO

from ._result import ExecResult


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group led by ``proc`` (bwrap then tears down its pid namespace)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


def _feed(pipe: IO[bytes], data: bytes) -> None:
    with contextlib.suppress(OSError):
        pipe.write(data)
    with contextlib.suppress(OSError):
        pipe.close()


def run_capped(
    argv: Sequence[str],
    *,
    wall_s: float,
    output_bytes: int,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    flood_factor: int = 16,
) -> ExecResult:
    """Run ``argv`` in its own process group; keep at most ``output_bytes`` of each stream.

    The child gets its own session so a timeout can kill the whole group at once. Output beyond the cap is
    read and discarded (so a flooding program never blocks on a full pipe and never fills our memory) and
    the result is marked ``truncated``; once a stream has produced ``flood_factor`` times the cap, the
    program is killed (``output_flood``) rather than letting it burn a core of ours on discarded output
    until its deadline.

    Args:
        argv: Command and arguments.
        wall_s: Wall-clock limit in seconds.
        output_bytes: Bytes kept per stream.
        cwd: Working directory of the child.
        env: Environment of the child (None inherits ours; sandboxes always pass one).
        stdin: Bytes fed to the child's stdin (None means /dev/null).
        flood_factor: Kill the program once a stream produced this many times ``output_bytes``.

    Returns:
        The :class:`ExecResult`.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        start_new_session=True,
        close_fds=True,
    )
    if stdin is not None and proc.stdin is not None:
        # Written from a thread: a program that never reads its stdin must not block us past the deadline
        # (the kill at the deadline breaks the pipe and ends the thread).
        threading.Thread(target=_feed, args=(proc.stdin, stdin), daemon=True).start()
    assert proc.stdout is not None and proc.stderr is not None
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    bufs: dict[int, bytearray] = {out_fd: bytearray(), err_fd: bytearray()}
    truncated = False
    timed_out = False
    flooded = False
    produced = {out_fd: 0, err_fd: 0}
    deadline = start + wall_s
    with selectors.DefaultSelector() as sel:
        for stream in (proc.stdout, proc.stderr):
            sel.register(stream, selectors.EVENT_READ)
        open_streams = 2
        while open_streams:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                timed_out = True
                break
            for key, _ in sel.select(timeout=remaining):
                fd = key.fd
                chunk = os.read(fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                buf = bufs[fd]
                room = output_bytes - len(buf)
                if room > 0:
                    buf += chunk[:room]
                if len(chunk) > room:
                    truncated = True
                produced[fd] += len(chunk)
                if produced[fd] > flood_factor * output_bytes:
                    flooded = True
            if flooded:
                break
    if timed_out or flooded:
        _kill_group(proc)
    try:
        exit_code = proc.wait(timeout=max(0.0, deadline - time.perf_counter()) + 0.5)
    except subprocess.TimeoutExpired:
        # Streams were closed (e.g. by a daemonised child) but the process still runs past the deadline.
        timed_out = True
        _kill_group(proc)
        exit_code = proc.wait()
    else:
        # Kill whatever else may linger in the group (bwrap's pid namespace usually took care of it).
        _kill_group(proc)
    proc.stdout.close()
    proc.stderr.close()
    return ExecResult(
        stdout=bufs[out_fd].decode("utf-8", "replace"),
        stderr=bufs[err_fd].decode("utf-8", "replace"),
        exit_code=exit_code,
        timed_out=timed_out,
        truncated=truncated,
        output_flood=flooded,
        duration_s=time.perf_counter() - start,
    )

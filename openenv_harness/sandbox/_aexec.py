"""The asyncio twin of :func:`~openenv_harness.sandbox.run_capped`: no thread is held while a program runs.

A server awaits it on its event loop, so a hundred sessions running slow programs cost a hundred child
processes, not a hundred worker threads. If the awaiting task is cancelled (a server-side step timeout),
the program's process group is killed before the cancellation propagates.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence

from ._result import ExecResult


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def arun_capped(
    argv: Sequence[str],
    *,
    wall_s: float,
    output_bytes: int,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    flood_factor: int = 16,
) -> ExecResult:
    """Run ``argv`` in its own process group with the same caps and limits as ``run_capped``.

    Args:
        argv: Command and arguments.
        wall_s: Wall-clock limit in seconds.
        output_bytes: Bytes kept per stream.
        cwd: Working directory of the child.
        env: Environment of the child.
        stdin: Bytes fed to the child's stdin (None means /dev/null).
        flood_factor: Kill the program once a stream produced this many times ``output_bytes``.
    """
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        start_new_session=True,
    )
    truncated = False
    flooded = asyncio.Event()

    bufs = (bytearray(), bytearray())  # outside the pumps: kept even when a pump is cancelled

    async def pump(stream: asyncio.StreamReader, buf: bytearray) -> None:
        nonlocal truncated
        produced = 0
        while True:
            chunk = await stream.read(65536)
            if not chunk:
                return
            room = output_bytes - len(buf)
            if room > 0:
                buf += chunk[:room]
            if len(chunk) > room:
                truncated = True
            produced += len(chunk)
            if produced > flood_factor * output_bytes:
                # Keep draining after the kill: asyncio only reports the exit once every pipe hit EOF.
                flooded.set()

    async def feed() -> None:
        assert proc.stdin is not None and stdin is not None
        with contextlib.suppress(OSError):
            proc.stdin.write(stdin)
            await proc.stdin.drain()
        with contextlib.suppress(OSError):
            proc.stdin.close()

    assert proc.stdout is not None and proc.stderr is not None
    pumps = [
        asyncio.ensure_future(pump(proc.stdout, bufs[0])),
        asyncio.ensure_future(pump(proc.stderr, bufs[1])),
    ]
    feeder = asyncio.ensure_future(feed()) if stdin is not None else None
    waiter = asyncio.ensure_future(proc.wait())
    flood_wait = asyncio.ensure_future(flooded.wait())
    timed_out = False
    try:
        pending = {*pumps, waiter}
        deadline = start + wall_s
        while pending - {flood_wait}:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                timed_out = True
                break
            done, pending = await asyncio.wait(
                pending | {flood_wait}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            if flooded.is_set():
                break
            pending.discard(flood_wait)
        if timed_out or flooded.is_set():
            _kill_group(proc.pid)
        try:
            # Bounded: asyncio reports the exit only once every pipe hit EOF, and without a pid namespace
            # (mode "none") an escaped grandchild could hold a pipe open forever.
            exit_code = await asyncio.wait_for(
                asyncio.shield(waiter), max(0.0, deadline - time.perf_counter()) + 2
            )
        except TimeoutError:
            timed_out = True
            _kill_group(proc.pid)
            exit_code = proc.returncode if proc.returncode is not None else -signal.SIGKILL
        # Whatever else lingers in the group (bwrap's pid namespace usually took care of it already).
        _kill_group(proc.pid)
        await asyncio.wait(pumps, timeout=1.0)
    finally:
        # Reached with an exception when the awaiting task is cancelled: kill before letting it propagate.
        if proc.returncode is None:
            _kill_group(proc.pid)
        for task in (*pumps, flood_wait, waiter, *([feeder] if feeder else [])):
            if not task.done():
                task.cancel()
    return ExecResult(
        stdout=bufs[0].decode("utf-8", "replace"),
        stderr=bufs[1].decode("utf-8", "replace"),
        exit_code=exit_code,
        timed_out=timed_out,
        truncated=truncated,
        output_flood=flooded.is_set(),
        duration_s=time.perf_counter() - start,
    )

r"""The host side of a session's interpreter: cells go in on stdin, output and an end marker come back.

The interpreter (see :mod:`._interpreters`) reads one cell at a time from its stdin, runs it with stdin
at ``/dev/null`` and, when the cell is over, writes ``<marker><status>\\n`` on stdout *and* on stderr,
so both streams are known to be complete. The marker is a random per-interpreter nonce; a cell that
prints it can only confuse its own output.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import selectors
import subprocess
import time

from ._result import ExecResult
from ._session import Capped, Session


class _Stream:
    """One output pipe of a cell: capped text before the marker, the status after it."""

    def __init__(self, marker: bytes, cap: int) -> None:
        self.marker = marker
        self.out = Capped(cap)
        self.tail = b""
        self.status: int | None = None
        self.eof = False

    def feed(self, chunk: bytes) -> None:
        data = self.tail + chunk
        at = data.find(self.marker)
        if at >= 0:
            rest = data[at + len(self.marker) :]
            end = rest.find(b"\n")
            if end >= 0:
                self.out.add(data[:at])
                self.status = int(rest[:end] or b"0")
                self.tail = b""
                return
            self.tail = data  # the status digits have not arrived yet
            return
        keep = len(self.marker) + 16
        self.out.add(data[:-keep] if len(data) > keep else b"")
        self.tail = data[-keep:] if len(data) > keep else data

    def flush(self) -> None:
        """Count what is left (the cell ended without a marker)."""
        self.out.add(self.tail)
        self.tail = b""


class PipeSession(Session):
    """A :class:`Session` whose interpreter speaks the marker protocol over pipes."""

    def _command(self, marker: str) -> list[str]:
        raise NotImplementedError

    def _frame(self, code: str) -> bytes:
        raise NotImplementedError

    def _start(self) -> None:
        self._marker = ("\x1e" + secrets.token_hex(8) + ":").encode()
        argv, env, cwd = self.sandbox.argv(self._command(self._marker.decode()))
        self.proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            close_fds=True,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for pipe in (self.proc.stdout, self.proc.stderr):
            os.set_blocking(pipe.fileno(), False)

    def _cell(self, code: str, deadline: float, cap: int) -> ExecResult:
        proc = self.proc
        assert (
            proc is not None
            and proc.stdin is not None
            and proc.stdout is not None
            and proc.stderr is not None
        )
        streams = {
            proc.stdout.fileno(): _Stream(self._marker, cap),
            proc.stderr.fileno(): _Stream(self._marker, cap),
        }
        try:
            proc.stdin.write(self._frame(code))
            proc.stdin.flush()
        except OSError:
            pass  # it died: noticed below as EOF
        timed_out, interrupted_at = False, None
        with selectors.DefaultSelector() as sel:
            for fd in streams:
                sel.register(fd, selectors.EVENT_READ)
            while any(s.status is None and not s.eof for s in streams.values()):
                now = time.perf_counter()
                limit = (interrupted_at + self.grace_s) if interrupted_at is not None else deadline
                if now >= limit:
                    if interrupted_at is not None:
                        why = f"the cell did not stop {self.grace_s:g} s after an interrupt"
                        return self._restarted(self._result(streams, proc, -9, True), why)
                    timed_out, interrupted_at = True, now
                    self.interrupt()
                    continue
                for key, _ in sel.select(timeout=limit - now):
                    stream = streams[key.fd]
                    try:
                        chunk = os.read(key.fd, 65536)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        stream.eof = True
                        sel.unregister(key.fd)
                        continue
                    stream.feed(chunk)
                    if stream.out.flooded and interrupted_at is None:
                        interrupted_at = time.perf_counter()
                        self.interrupt()
        if any(s.eof for s in streams.values()):
            for s in streams.values():
                s.flush()
            try:
                status = proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                status = -9
            why = f"the interpreter exited (status {status})"
            return self._restarted(self._result(streams, proc, status, timed_out), why)
        result = self._result(streams, proc, None, timed_out)
        if any(s.out.flooded for s in streams.values()):
            return ExecResult(
                **{**result.to_dict(), "output_flood": True, "note": "interrupted: output flood"}
            )
        if timed_out:
            return ExecResult(
                **{**result.to_dict(), "note": "interrupted at the timeout; the session's state is kept"}
            )
        return result

    @staticmethod
    def _result(
        streams: dict[int, _Stream], proc: subprocess.Popen[bytes], code: int | None, timed_out: bool
    ) -> ExecResult:
        out, err = (s for s in streams.values())
        status = code if code is not None else (out.status if out.status is not None else -1)
        return ExecResult(
            stdout=out.out.text(),
            stderr=err.out.text(),
            exit_code=status,
            timed_out=timed_out,
            truncated=out.out.truncated or err.out.truncated,
            duration_s=0.0,
        )

    def _release(self) -> None:
        if self.proc is not None:
            for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()

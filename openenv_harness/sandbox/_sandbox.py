"""A sandbox for one episode: a private work dir, a leased uid, and ``run(code, language)``."""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from ._aexec import arun_capped
from ._bwrap import bwrap_argv, bwrap_problem, python_executable, sandbox_env
from ._exec import run_capped
from ._limits import SandboxLimits
from ._result import ExecResult
from ._uids import UidLease, UidPool, default_pool
from ._workdir import make_workdir, remove_workdir, sweep_stale

SandboxMode = Literal["bwrap", "none"]
Language = Literal["python", "bash"]
MAX_CODE_BYTES = 120_000
"""Programs are passed as one argv string (``python -c`` / ``bash -c``), bounded by Linux's 128 KiB limit."""


_live: weakref.WeakSet[Sandbox] = weakref.WeakSet()


@atexit.register
def _close_all_at_exit() -> None:
    """Delete the work dirs of sandboxes still open when the process exits (e.g. a server on SIGTERM)."""
    for box in list(_live):
        with contextlib.suppress(Exception):
            box.close()


class SandboxUnavailable(RuntimeError):
    """The requested sandbox cannot run on this host (the message says why and what to do)."""


@dataclass(frozen=True)
class SandboxConfig:
    """How programs are isolated.

    Attributes:
        mode: ``bwrap`` (bubblewrap, the default) or ``none``. ``none`` runs programs directly on the host
            with only rlimits, as the server's own user: use it only where something else (a container)
            is the sandbox; it must be chosen explicitly, it is never a silent fallback.
        limits: Resource limits per execution.
        python_site: Expose site-packages to sandboxed Python (off by default: ``-I -S`` starts ~4x faster
            and keeps the host's installed packages out of reach).
    """

    mode: SandboxMode = "bwrap"
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    python_site: bool = False


def sandbox_problem(mode: SandboxMode) -> str | None:
    """Why a sandbox of ``mode`` cannot run here, or None when it can."""
    if mode == "none":
        return None
    if mode != "bwrap":
        return f"unknown sandbox mode {mode!r}; use 'bwrap' or 'none'"
    return bwrap_problem()


class Sandbox:
    r"""Runs Python or bash programs for one episode; files in the work dir persist until :meth:`close`.

    Args:
        config: Isolation mode and limits.
        uid_pool: Pool to lease the sandbox's uid from (bwrap mode); the process-wide pool by default.

    Raises:
        SandboxUnavailable: when ``config.mode`` cannot run here (the message says why).

    Example:
        >>> with Sandbox() as sb:  # doctest: +SKIP
        ...     sb.run("print(1)").stdout
        '1\\n'
    """

    def __init__(self, config: SandboxConfig | None = None, uid_pool: UidPool | None = None) -> None:
        self.config = config or SandboxConfig()
        problem = sandbox_problem(self.config.mode)
        if problem is not None:
            raise SandboxUnavailable(
                f"cannot run code: sandbox {self.config.mode!r} is unavailable ({problem}). Fix that, or set "
                "sandbox: none explicitly to run programs unsandboxed (only inside a container)."
            )
        self._lock = threading.Lock()
        self._lease: UidLease | None = None
        if self.config.mode == "bwrap":
            self._lease = (uid_pool or default_pool()).acquire()
        if self._lease is not None:
            sweep_stale(self._lease.uid)
        self._dir: str | None
        self._dir, self.size_limited = make_workdir(self.uid, self.config.limits.disk_mb)
        self._python = python_executable()
        _live.add(self)

    @property
    def work_dir(self) -> Path:
        """Host path of the work dir (``/workspace`` inside the sandbox)."""
        if self._dir is None:
            raise RuntimeError("sandbox is closed")
        return Path(self._dir)

    @property
    def uid(self) -> int | None:
        """The uid programs run as (None in ``none`` mode)."""
        return self._lease.uid if self._lease is not None else None

    def command(self, code: str, language: Language) -> list[str]:
        """The in-sandbox argv that runs ``code``."""
        if language == "python":
            flags = ["-I"] if self.config.python_site else ["-I", "-S"]
            return [self._python, *flags, "-c", code]
        if language == "bash":
            return ["/bin/bash", "--noprofile", "--norc", "-c", code]
        raise ValueError(f"unsupported language {language!r}; use 'python' or 'bash'")

    def run(
        self, code: str, language: Language = "python", *, timeout_s: float | None = None, stdin: str = ""
    ) -> ExecResult:
        """Run one program to completion (or to its limits).

        Args:
            code: Program text.
            language: ``python`` or ``bash``.
            timeout_s: Wall-clock limit for this run; never more than ``limits.wall_s``.
            stdin: Text fed to the program's standard input.

        Returns:
            The :class:`ExecResult` (a crash, a limit or a timeout is a result, not an exception).

        Raises:
            ValueError: for an unknown language or a program larger than :data:`MAX_CODE_BYTES`.
            RuntimeError: when the sandbox is closed.
        """
        argv, env, cwd, limits = self._prepare(code, language, timeout_s)
        with self._lock:  # one program at a time per episode: the work dir is shared state
            return run_capped(
                argv,
                wall_s=limits.wall_s,
                output_bytes=limits.output_bytes,
                cwd=cwd,
                env=env,
                stdin=stdin.encode() if stdin else None,
            )

    async def arun(
        self, code: str, language: Language = "python", *, timeout_s: float | None = None, stdin: str = ""
    ) -> ExecResult:
        """:meth:`run` for asyncio callers: awaits the program without holding a thread.

        Cancelling the awaiting task kills the program. Do not overlap ``run``/``arun`` calls on one sandbox
        (an episode runs one program at a time).
        """
        argv, env, cwd, limits = self._prepare(code, language, timeout_s)
        return await arun_capped(
            argv,
            wall_s=limits.wall_s,
            output_bytes=limits.output_bytes,
            cwd=cwd,
            env=env,
            stdin=stdin.encode() if stdin else None,
        )

    def _prepare(
        self, code: str, language: Language, timeout_s: float | None
    ) -> tuple[list[str], dict[str, str], str | None, SandboxLimits]:
        size = len(code.encode("utf-8", "replace"))
        if size > MAX_CODE_BYTES:
            raise ValueError(f"program is {size} bytes; the sandbox accepts at most {MAX_CODE_BYTES}")
        if "\x00" in code:
            raise ValueError("program contains a NUL byte")
        limits = self.config.limits
        if timeout_s is not None and timeout_s > 0:
            limits = replace(limits, wall_s=min(limits.wall_s, timeout_s))
        command = self.command(code, language)
        work_dir = str(self.work_dir)
        if self._lease is not None:
            argv = bwrap_argv(work_dir, self._lease.uid, limits, command)
            return argv, {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, None, limits
        argv = ["prlimit", *limits.prlimit_args(), *command]
        env = {**sandbox_env(os.path.dirname(os.path.dirname(self._python))), "HOME": work_dir}
        return argv, env, work_dir, limits

    def close(self) -> None:
        """Delete the work dir and give the uid back (idempotent)."""
        with self._lock:
            if self._dir is not None:
                remove_workdir(self._dir)
                self._dir = None
            if self._lease is not None:
                self._lease.release()
                self._lease = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # best effort at interpreter shutdown
            self.close()

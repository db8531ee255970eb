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
from ._cgroup import SandboxCgroup, cgroup_problem
from ._exec import run_capped
from ._interpreters import BashSession, PythonSession
from ._limits import SandboxLimits
from ._result import ExecResult
from ._session import Session
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


def _check_code(code: str) -> None:
    size = len(code.encode("utf-8", "replace"))
    if size > MAX_CODE_BYTES:
        raise ValueError(f"program is {size} bytes; the sandbox accepts at most {MAX_CODE_BYTES}")
    if "\x00" in code:
        raise ValueError("program contains a NUL byte")


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
        python_site: Put site-packages on sandboxed Python's path (off by default: ``-I -S`` starts ~4x
            faster). Either way only the ``packages`` allow-list is visible there.
        packages: Installed distributions visible inside the sandbox (with their dependencies); every
            other third-party package (the project, dataset packages) is hidden.
        cgroups: Bound memory (``limits.memory_mb``) and processes (``limits.nproc``) of the whole sandbox
            with cgroup v1 child groups where the host allows it (see ``Sandbox.cgroup_limited``).
    """

    mode: SandboxMode = "bwrap"
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    python_site: bool = False
    packages: tuple[str, ...] = ()
    cgroups: bool = True


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
        self.cgroup: SandboxCgroup | None = None
        if self._lease is not None and self.config.cgroups and cgroup_problem() is None:
            limits = self.config.limits
            self.cgroup = SandboxCgroup(f"uid-{self._lease.uid}", limits.memory_mb, limits.nproc)
        self._dir: str | None
        self._dir, self.size_limited = make_workdir(self.uid, self.config.limits.disk_mb)
        self._python = python_executable()
        self._sessions: dict[str, Session] = {}
        _live.add(self)

    @property
    def work_dir(self) -> Path:
        """Host path of the work dir (``/workspace`` inside the sandbox)."""
        if self._dir is None:
            raise RuntimeError("sandbox is closed")
        return Path(self._dir)

    @property
    def python(self) -> str:
        """The Python interpreter programs run with (same path inside and outside)."""
        return self._python

    def session(self, language: Language) -> Session:
        """The episode's long-running interpreter for ``language``, started on first use.

        State (variables, imports, working directory, environment) persists across its cells; it ends
        with :meth:`close`. See :mod:`openenv_harness.sandbox._session` for timeouts, crashes and caps.
        """
        if self._dir is None:
            raise RuntimeError("sandbox is closed")
        if language not in self._sessions:
            kinds: dict[str, type[Session]] = {"python": PythonSession, "bash": BashSession}
            if language not in kinds:
                raise ValueError(f"unsupported language {language!r}; use 'python' or 'bash'")
            self._sessions[language] = kinds[language](self)
        return self._sessions[language]

    def run_session(
        self, code: str, language: Language = "python", *, timeout_s: float | None = None
    ) -> ExecResult:
        """Run one cell in the ``language`` session (same limits and checks as :meth:`run`)."""
        _check_code(code)
        with self._lock:
            return self.session(language).run(code, timeout_s=timeout_s)

    @property
    def cgroup_limited(self) -> bool:
        """True when memory and processes are bounded for the whole sandbox (not only per process)."""
        return self.cgroup is not None

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
        self,
        code: str,
        language: Language = "python",
        *,
        timeout_s: float | None = None,
        stdin: str = "",
        output_bytes: int | None = None,
    ) -> ExecResult:
        """Run one program to completion (or to its limits).

        Args:
            code: Program text.
            language: ``python`` or ``bash``.
            timeout_s: Wall-clock limit for this run; never more than ``limits.wall_s``.
            stdin: Text fed to the program's standard input.
            output_bytes: Bytes kept per stream for this run (``limits.output_bytes`` when None), e.g. a
                larger cap for a machine-read report.

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
                output_bytes=output_bytes or limits.output_bytes,
                cwd=cwd,
                env=env,
                stdin=stdin.encode() if stdin else None,
            )

    async def arun(
        self,
        code: str,
        language: Language = "python",
        *,
        timeout_s: float | None = None,
        stdin: str = "",
        output_bytes: int | None = None,
    ) -> ExecResult:
        """:meth:`run` for asyncio callers: awaits the program without holding a thread.

        Cancelling the awaiting task kills the program. Do not overlap ``run``/``arun`` calls on one sandbox
        (an episode runs one program at a time).
        """
        argv, env, cwd, limits = self._prepare(code, language, timeout_s)
        return await arun_capped(
            argv,
            wall_s=limits.wall_s,
            output_bytes=output_bytes or limits.output_bytes,
            cwd=cwd,
            env=env,
            stdin=stdin.encode() if stdin else None,
        )

    def _prepare(
        self, code: str, language: Language, timeout_s: float | None
    ) -> tuple[list[str], dict[str, str], str | None, SandboxLimits]:
        _check_code(code)
        limits = self.config.limits
        if timeout_s is not None and timeout_s > 0:
            limits = replace(limits, wall_s=min(limits.wall_s, timeout_s))
        return (*self.argv(self.command(code, language), limits), limits)

    def argv(
        self,
        command: list[str],
        limits: SandboxLimits | None = None,
        binds: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> tuple[list[str], dict[str, str], str | None]:
        """How to start ``command`` inside this sandbox: ``(argv, env, cwd)`` for the host's spawn call.

        Args:
            command: The in-sandbox argv.
            limits: rlimits (the config's by default).
            binds: Host directories to bind read-write at the same path (bwrap mode only).
            env: Extra environment variables for the program.
        """
        limits = limits or self.config.limits
        work_dir = str(self.work_dir)
        if self._lease is not None:
            argv = bwrap_argv(
                work_dir,
                self._lease.uid,
                limits,
                command,
                packages=self.config.packages,
                binds=binds,
                env=env,
            )
            if self.cgroup is not None:
                argv = self.cgroup.join_argv(argv)
            return argv, {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, None
        argv = ["prlimit", *limits.prlimit_args(), *command]
        prefix = os.path.dirname(os.path.dirname(self._python))
        return argv, {**sandbox_env(prefix), "HOME": work_dir, **(env or {})}, work_dir

    def close(self) -> None:
        """End every process of the sandbox, delete the work dir and give the uid back (idempotent)."""
        with self._lock:
            for session in self._sessions.values():
                session.close()
            self._sessions.clear()
            if self.cgroup is not None:
                self.cgroup.close()
                self.cgroup = None
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

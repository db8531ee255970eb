"""Resource limits of one sandboxed execution."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SandboxLimits:
    """Limits applied to every program a sandbox runs.

    Attributes:
        wall_s: Wall-clock limit; the whole process tree is killed when it passes (``timed_out``).
        cpu_s: CPU-time rlimit (``RLIMIT_CPU``) of each process.
        memory_mb: Address-space rlimit (``RLIMIT_AS``) of each process, in MiB.
        file_size_mb: Largest file a process may write (``RLIMIT_FSIZE``), in MiB.
        nproc: Process/thread budget (``RLIMIT_NPROC``) of the sandbox's uid (each sandbox leases its own
            uid, so one sandbox's fork bomb cannot starve another).
        nofile: Open file descriptors per process (``RLIMIT_NOFILE``).
        output_bytes: Bytes kept per stream (stdout, stderr); the rest is discarded and ``truncated`` set.
        disk_mb: Size of the episode's work dir (a tmpfs where the host allows mounting; see
            ``Sandbox.size_limited``); None leaves it unbounded.
    """

    wall_s: float = 10.0
    cpu_s: int = 10
    memory_mb: int = 1024
    file_size_mb: int = 16
    nproc: int = 64
    nofile: int = 256
    output_bytes: int = 64 * 1024
    disk_mb: int | None = 128

    def __post_init__(self) -> None:
        if self.disk_mb is not None and self.disk_mb <= 0:
            raise ValueError(f"sandbox limit disk_mb must be > 0 or None, got {self.disk_mb}")
        for name in ("wall_s", "cpu_s", "memory_mb", "file_size_mb", "nproc", "nofile", "output_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"sandbox limit {name} must be > 0, got {getattr(self, name)}")

    def prlimit_args(self) -> list[str]:
        """``prlimit`` options that set these rlimits (soft = hard, so a program cannot raise them)."""
        cpu_hard = self.cpu_s + 1  # SIGXCPU at the soft limit, SIGKILL one second later
        return [
            f"--cpu={self.cpu_s}:{cpu_hard}",
            f"--as={self.memory_mb * 1024 * 1024}",
            f"--fsize={self.file_size_mb * 1024 * 1024}",
            f"--nproc={self.nproc}",
            f"--nofile={self.nofile}",
            "--core=0",
        ]

"""A pool of unprivileged uids, leased one per sandbox, coordinated across processes with file locks.

``RLIMIT_NPROC`` counts processes per *real uid*, system-wide. If every sandbox ran as one uid (say
``nobody``), one fork bomb would exhaust the budget of every other concurrent sandbox, and a sandbox could
signal or ptrace another one's processes. So each live sandbox leases its own uid. Leases are ``flock``-ed
files, so several server processes on one host never hand out the same uid, and a crashed process releases
its leases automatically (the kernel drops the lock with the file descriptor).
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

DEFAULT_UID_BASE = 61000
DEFAULT_UID_COUNT = 256
_LOCK_DIR = Path(os.environ.get("OPENENV_HARNESS_UID_LOCK_DIR", "/tmp/openenv_harness_uids"))


class UidPoolExhausted(RuntimeError):
    """Every uid of the pool is leased by a live sandbox."""


class UidLease:
    """One leased uid; release it with :meth:`release` (idempotent) or use it as a context manager."""

    def __init__(self, uid: int, fd: int, pool: UidPool) -> None:
        self.uid = uid
        self._fd: int | None = fd
        self._pool = pool

    def release(self) -> None:
        """Give the uid back to the pool."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            self._pool._release(self.uid, fd)

    def __enter__(self) -> UidLease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class UidPool:
    """Hands out uids in ``[base, base + count)``, never the same one twice at a time (even across processes).

    Args:
        base: First uid of the range (must be an unused, unprivileged uid range on the host).
        count: Size of the range = the maximum number of concurrent sandboxes on the host.
        lock_dir: Where lock files live (shared by every process that uses the same range).
    """

    def __init__(
        self, base: int = DEFAULT_UID_BASE, count: int = DEFAULT_UID_COUNT, lock_dir: Path = _LOCK_DIR
    ) -> None:
        if base < 1000 or count < 1:
            raise ValueError(
                f"uid range must be unprivileged (base >= 1000) and non-empty, got {base}+{count}"
            )
        self.base = base
        self.count = count
        self.lock_dir = lock_dir
        self._mutex = threading.Lock()
        self._held: set[int] = set()
        self._next = 0

    def acquire(self) -> UidLease:
        """Lease a free uid.

        Raises:
            UidPoolExhausted: when all uids are leased.
        """
        self.lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._mutex:
            for i in range(self.count):
                uid = self.base + (self._next + i) % self.count
                if uid in self._held:
                    continue
                fd = os.open(self.lock_dir / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    continue
                self._held.add(uid)
                self._next = (self._next + i + 1) % self.count
                return UidLease(uid, fd, self)
        raise UidPoolExhausted(
            f"all {self.count} sandbox uids ({self.base}..{self.base + self.count - 1}) are in use; close "
            "some sessions or configure a larger uid pool"
        )

    def _release(self, uid: int, fd: int) -> None:
        with self._mutex:
            self._held.discard(uid)
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def in_use(self) -> int:
        """Number of uids this process currently leases."""
        with self._mutex:
            return len(self._held)


_default_pool: UidPool | None = None
_default_lock = threading.Lock()


def default_pool() -> UidPool:
    """The process-wide pool used by sandboxes that are not given one."""
    global _default_pool
    with _default_lock:
        if _default_pool is None:
            _default_pool = UidPool()
        return _default_pool

"""Per-episode work dirs: a host temp dir, size-limited with its own tmpfs where the host allows mounting.

``RLIMIT_FSIZE`` bounds one file, not how many a program writes; without a size limit on the work dir a
program could fill the host's disk within its wall-clock budget. As root (which the bwrap sandbox needs
anyway) we mount a tmpfs of ``disk_mb`` on the work dir (``nosuid,nodev``, owned by the sandbox's uid);
it is memory-backed, and pages are only used once written. Where mounting is not permitted the work dir is
a plain directory and :func:`make_workdir` says so (``size_limited=False``).

Stale work dirs (a crashed server) are swept by uid: right after leasing a uid no live sandbox can use it,
so every work dir it owns is stale (race-free across processes for the same reason).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import shutil
import tempfile
from typing import Any

PREFIX = "openenv-sbx-"
_MS_NOSUID, _MS_NODEV = 2, 4
_MNT_DETACH = 2


@functools.cache
def _libc() -> Any:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _mount_tmpfs(path: str, size_mb: int, uid: int) -> bool:
    opts = f"size={size_mb}m,mode=0700,uid={uid},gid={uid}".encode()
    rc = _libc().mount(b"tmpfs", path.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, opts)
    return bool(rc == 0)


def _unmount(path: str) -> None:
    # Lazy detach: nothing inside can hold it busy for long (every sandboxed process is gone by now).
    _libc().umount2(path.encode(), _MNT_DETACH)


def make_workdir(uid: int | None, disk_mb: int | None) -> tuple[str, bool]:
    """Create a work dir (owned by ``uid`` when given) and, if possible, cap it at ``disk_mb``.

    Returns:
        ``(path, size_limited)``.
    """
    path = tempfile.mkdtemp(prefix=PREFIX)
    limited = False
    if uid is not None and disk_mb is not None and os.geteuid() == 0:
        limited = _mount_tmpfs(path, disk_mb, uid)
    if uid is not None and not limited:
        os.chown(path, uid, uid)
    return path, limited


def remove_workdir(path: str) -> None:
    """Unmount (if it is a mount) and delete a work dir."""
    with contextlib.suppress(OSError):
        if os.path.ismount(path):
            _unmount(path)
    shutil.rmtree(path, ignore_errors=True)


def sweep_stale(uid: int) -> int:
    """Remove every work dir owned by ``uid`` (call only while holding ``uid``'s lease).

    Returns:
        How many were removed.
    """
    removed = 0
    try:
        entries = os.scandir(tempfile.gettempdir())
    except OSError:
        return 0
    with entries:
        for entry in entries:
            if not entry.name.startswith(PREFIX) or not entry.is_dir(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_uid == uid:
                    remove_workdir(entry.path)
                    removed += 1
    return removed

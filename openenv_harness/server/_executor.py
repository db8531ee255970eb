"""The bounded thread pool that runs synchronous environment code, shared by all sessions of an app.

One OS thread per session (OpenEnv's model) makes the thread count and memory grow with sessions; a pool of a
few workers per core does not. Environments that never block should define async variants instead, which run
on the event loop without any thread (see :class:`openenv_harness.server.Session`).
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
from typing import Any

log = logging.getLogger(__name__)

_default_pool: concurrent.futures.ThreadPoolExecutor | None = None
_default_pool_lock = threading.Lock()


def default_worker_count() -> int:
    """Workers of an env thread pool: a few per core (env code that blocks on I/O releases the GIL)."""
    return min(32, (os.cpu_count() or 1) + 4)


def make_executor(max_workers: int | None = None) -> concurrent.futures.ThreadPoolExecutor:
    """A bounded thread pool for synchronous environment code (threads are started lazily, on demand)."""
    return concurrent.futures.ThreadPoolExecutor(
        max_workers=max_workers or default_worker_count(), thread_name_prefix="openenv-env"
    )


def default_executor() -> concurrent.futures.ThreadPoolExecutor:
    """The process-wide pool used by sessions created without one (e.g. by the in-process provider)."""
    global _default_pool
    with _default_pool_lock:
        if _default_pool is None:
            _default_pool = make_executor()
        return _default_pool


def close_quietly(env: Any) -> None:
    """Close an env, logging its errors (a failing ``close`` must not take the server down)."""
    try:
        env.close()
    except Exception:  # noqa: BLE001 - the env's bug; nothing the caller can do about it
        log.exception("closing %s failed", type(env).__name__)


__all__ = ["close_quietly", "default_executor", "default_worker_count", "make_executor"]

"""Running a rubric's async scoring from synchronous callers without ever blocking their event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
from collections.abc import Awaitable
from typing import Any


def run_sync(coro: Awaitable[Any]) -> Any:
    """Run a coroutine to completion from synchronous code.

    Without a running loop in this thread it uses ``asyncio.run``; inside one (a sync call made from async
    code) it runs the coroutine on a fresh loop in a worker thread, so the caller never deadlocks its own loop.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)  # type: ignore[arg-type]
    ctx = contextvars.copy_context()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="rubric") as pool:
        return pool.submit(ctx.run, asyncio.run, coro).result()  # type: ignore[arg-type]

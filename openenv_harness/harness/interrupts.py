"""How a run stops on Ctrl-C or SIGTERM: unwind once, and never hang.

Inside :func:`graceful_shutdown`, the first SIGINT or SIGTERM raises ``KeyboardInterrupt`` in the main thread,
so ``finally`` blocks stop the env servers and close the records (Python's default SIGTERM would end the
process at once and orphan servers that run in their own process groups). It also arms a watchdog: if
cleanup has not finished ``grace_s`` seconds later (a library stuck in a state the interrupt left it in),
the stacks of all threads go to stderr, live providers get a last bounded stop and the process exits with
``128 + signal``. A second signal does the same at once, as users expect of a second Ctrl-C. Local env
servers also watch our pid (``--parent-pid``) and exit when we do.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

DEFAULT_GRACE_S = 60.0


def _force_exit(signum: int, reason: str) -> None:
    """Print why and where every thread is, give live providers a bounded last stop, then ``os._exit``."""
    try:
        sys.stderr.write(f"openenv_harness: {reason}; exiting without further cleanup. Threads:\n")
        sys.stderr.flush()
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        from openenv_harness.runtime import stop_live_providers

        stopper = threading.Thread(target=stop_live_providers, name="last-stop", daemon=True)
        stopper.start()
        stopper.join(timeout=15)
    finally:
        os._exit(128 + signum)


@contextlib.contextmanager
def graceful_shutdown(grace_s: float = DEFAULT_GRACE_S) -> Iterator[None]:
    """Within the block, SIGINT/SIGTERM unwind as ``KeyboardInterrupt`` with a bounded cleanup (see module).

    Outside the main thread (signal handlers cannot be set there) the block runs unchanged. The previous
    handlers are restored, and a pending watchdog is cancelled, when the block exits.

    Args:
        grace_s: Seconds the cleanup after the first signal may take before the process is ended.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    previous: dict[int, Any] = {s: signal.getsignal(s) for s in signals}
    timers: list[threading.Timer] = []

    def handler(signum: int, frame: Any) -> None:
        if timers:  # a second signal: the user does not want to wait for the cleanup
            _force_exit(signum, f"second signal ({signal.Signals(signum).name})")
        timer = threading.Timer(
            grace_s,
            _force_exit,
            args=(signum, f"cleanup after {signal.Signals(signum).name} did not finish within {grace_s:g} s"),
        )
        timer.daemon = True
        timers.append(timer)
        timer.start()
        raise KeyboardInterrupt(f"signal {signum}")

    for s in signals:
        signal.signal(s, handler)
    try:
        yield
    finally:
        for timer in timers:
            timer.cancel()
        for signum, old in previous.items():
            signal.signal(signum, old)


__all__ = ["DEFAULT_GRACE_S", "graceful_shutdown"]

"""Environments used by the server tests (test-only variants of echo)."""

import threading

from envs.echo import EchoEnvironment


class SyncEcho(EchoEnvironment):
    """Echo without its async variants: exercises the shared thread pool path."""

    reset_async = None  # type: ignore[assignment]
    step_async = None  # type: ignore[assignment]


class ClosingEcho(EchoEnvironment):
    """Echo that records closes (class-level list, so tests can see instances closed by the server)."""

    closed: list[int] = []
    lock = threading.Lock()

    def close(self) -> None:
        with ClosingEcho.lock:
            ClosingEcho.closed.append(id(self))

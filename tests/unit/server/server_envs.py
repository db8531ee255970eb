"""Environments used by the server tests (test-only variants of echo)."""

import threading

from envs.echo import EchoEnvironment, SyncEchoEnvironment

SyncEcho = SyncEchoEnvironment
"""Echo without async variants: exercises the shared thread pool path."""


class ClosingEcho(EchoEnvironment):
    """Echo that records closes (class-level list, so tests can see instances closed by the server)."""

    closed: list[int] = []
    lock = threading.Lock()

    def close(self) -> None:
        with ClosingEcho.lock:
            ClosingEcho.closed.append(id(self))

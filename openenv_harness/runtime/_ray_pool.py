"""The ``ray`` provider's table of replicas and of the sessions seated on them (least loaded first).

A *seat* is one client's place: the replica its connection goes to. A client gets a seat when it is created
and takes a new one on every reconnect (its connection was lost): the old seat is released and the client
goes to the least-loaded live replica other than the one it left, when there is one. All state changes
happen under one condition variable, so a client waiting for a replacement wakes up when one goes live.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from ..spec import EnvError, ErrorCode


@dataclass(eq=False)
class Replica:
    """One env server actor and what is known about it."""

    index: int
    actor: Any
    start_ref: Any = None
    watch_ref: Any = None
    state: str = "starting"
    url: str = ""
    node_id: str = ""
    pid: int = 0
    sessions: int = 0
    restarts: int = 0


class Seat:
    """A client's place on a replica (None until seated)."""

    __slots__ = ("__weakref__", "replica")

    def __init__(self) -> None:
        self.replica: Replica | None = None


class SeatTable:
    """Replicas by index, their seat counts, and the waiting for a live one."""

    def __init__(self) -> None:
        self.replicas: list[Replica] = []
        self._cond = threading.Condition()

    # -- replicas -------------------------------------------------------------------------------------------

    def live(self) -> list[Replica]:
        """Live replicas, by index."""
        with self._cond:
            return [r for r in self.replicas if r.state == "live"]

    def urls(self) -> list[str]:
        """URLs of the live replicas, by index."""
        return [r.url for r in self.live()]

    def go_live(self, replica: Replica) -> None:
        """Mark a replica serving and wake clients waiting for one."""
        with self._cond:
            replica.state = "live"
            self._cond.notify_all()

    def go_dead(self, replica: Replica) -> None:
        """Take a replica out of the pool (its seats stay counted until their clients move)."""
        with self._cond:
            replica.state = "dead"
            self._cond.notify_all()

    def replace(self, fresh: Replica) -> None:
        """Put a (starting) replacement in its predecessor's slot."""
        with self._cond:
            self.replicas[fresh.index] = fresh

    def clear(self) -> list[Replica]:
        """Forget every replica (returned for shutdown) and wake every waiter."""
        with self._cond:
            replicas, self.replicas = self.replicas, []
            self._cond.notify_all()
        return replicas

    def refs(self) -> dict[Any, tuple[Replica, str]]:
        """Object refs the monitor waits on: ``watch`` calls of live replicas, ``start`` calls of new ones."""
        out: dict[Any, tuple[Replica, str]] = {}
        with self._cond:
            for r in self.replicas:
                if r.state == "live" and r.watch_ref is not None:
                    out[r.watch_ref] = (r, "watch")
                elif r.state == "starting" and r.start_ref is not None:
                    out[r.start_ref] = (r, "start")
        return out

    def wait_gone(self, replica: Replica, timeout_s: float) -> bool:
        """Wait until the monitor has taken ``replica`` out of the pool; False if it is still live after."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while replica.state == "live":
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    # -- seats ----------------------------------------------------------------------------------------------

    def least_loaded(self, leaving: Replica | None, deadline: float) -> Replica:
        """The live replica with fewest seats (ties: lowest index), avoiding ``leaving`` when possible.

        Waits until ``deadline`` (``time.monotonic``) for a live replica.

        Raises:
            EnvError: ``CONNECTION_LOST`` when no replica is live by then.
        """
        with self._cond:
            while True:
                live = [r for r in self.replicas if r.state == "live"]
                others = [r for r in live if r is not leaving] or live
                if others:
                    return min(others, key=lambda r: (r.sessions, r.index))
                left = deadline - time.monotonic()
                if left <= 0 or not self.replicas:
                    raise EnvError(
                        ErrorCode.CONNECTION_LOST, "no Ray env replica is live (all died or stopped)"
                    )
                self._cond.wait(min(left, 1.0))

    def take(self, seat: Seat, deadline: float) -> str:
        """Seat a client (moving it off its current replica) and return the replica's URL."""
        with self._cond:
            leaving = seat.replica
            target = self.least_loaded(leaving, deadline)
            if leaving is not None:
                leaving.sessions -= 1
            target.sessions += 1
            seat.replica = target
            return target.url

    def release(self, seat: Seat) -> None:
        """Free a seat (its client was closed or collected)."""
        with self._cond:
            if seat.replica is not None:
                seat.replica.sessions -= 1
                seat.replica = None

    def describe(self) -> list[dict[str, Any]]:
        """Each replica as a plain dict (index, state, url, node_id, pid, sessions, restarts)."""
        with self._cond:
            return [
                {
                    "index": r.index,
                    "state": r.state,
                    "url": r.url,
                    "node_id": r.node_id,
                    "pid": r.pid,
                    "sessions": r.sessions,
                    "restarts": r.restarts,
                }
                for r in self.replicas
            ]

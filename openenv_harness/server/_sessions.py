"""The app's table of live sessions: creation under a cap, lookup by id, the idle reaper, shutdown.

Tool-using environments get this object in ``setup_app(app, sessions)`` so their own routes (for example an
MCP app at ``/mcp``) can find the episode a request belongs to with :meth:`SessionRegistry.get`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

from openenv_harness.spec import ConfigHolder, EnvError, ErrorCode

from ._session import EnvFactory, Session

log = logging.getLogger(__name__)


def reap_interval(idle_timeout_s: float) -> float:
    """How often the reaper looks: a quarter of the timeout, between 20 ms and 30 s.

    Proportional so a test with a 0.2 s timeout sees its session reaped within ~0.25 s, while a production
    server with the 300 s default wakes up only every 30 s.
    """
    return min(30.0, max(0.02, idle_timeout_s / 4))


class SessionRegistry:
    """Live sessions of one app, keyed by session id.

    Args:
        factory: Builds one environment instance per session.
        max_sessions: Cap on concurrent sessions (``CAPACITY`` beyond it).
        idle_timeout_s: Sessions idle longer than this are closed by the reaper (<= 0 disables it). Only resets
            and steps count as activity.
        config: The shared reward-config holder (None when the env has no config).
        executor: Pool for synchronous environment code, shared by all sessions.
        default_timeout_s: Default ``timeout_s`` for reset/step.
        max_lifetime_s: Sessions older than this are closed by the reaper however active they are (<= 0: no
            limit), so no client holds a slot forever.
    """

    def __init__(
        self,
        factory: EnvFactory,
        *,
        max_sessions: int,
        idle_timeout_s: float,
        config: ConfigHolder | None,
        executor: concurrent.futures.ThreadPoolExecutor,
        default_timeout_s: float | None = None,
        max_lifetime_s: float = 0.0,
    ) -> None:
        self.factory = factory
        self.max_sessions = max_sessions
        self.idle_timeout_s = idle_timeout_s
        self.config = config
        self.executor = executor
        self.default_timeout_s = default_timeout_s
        self.max_lifetime_s = max_lifetime_s
        self.reaped = 0
        """How many sessions the reaper has closed (for tests and /health)."""
        self._sessions: dict[str, Session] = {}
        self._pending = 0
        self._reaper: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._sessions)

    def __iter__(self) -> Iterator[Session]:
        return iter(list(self._sessions.values()))

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id, or None (unknown, closed or reaped)."""
        if session_id is None:
            return None
        return self._sessions.get(session_id)

    def require(self, session_id: str | None) -> Session:
        """Like :meth:`get`, but raises a clear ``NOT_RESET`` / ``SESSION_NOT_FOUND`` error."""
        if not session_id:
            raise EnvError(
                ErrorCode.NOT_RESET,
                "no session id: call POST /reset first and send back its session_id (header X-Session-Id or "
                "body field session_id)",
            )
        session = self._sessions.get(session_id)
        if session is None:
            raise EnvError(
                ErrorCode.SESSION_NOT_FOUND,
                f"unknown session {session_id!r} (closed, reaped after {self.idle_timeout_s} s idle, or never "
                "created): call POST /reset without a session id to start a new session",
            )
        return session

    async def create(self) -> Session:
        """Build a new session (its env is constructed on the worker pool), or raise ``CAPACITY``."""
        if len(self._sessions) + self._pending >= self.max_sessions:
            raise EnvError(
                ErrorCode.CAPACITY,
                f"server at capacity: {len(self._sessions)} of max_sessions={self.max_sessions} sessions in "
                "use; close a session or retry later",
                {"active_sessions": len(self._sessions), "max_sessions": self.max_sessions},
            )
        self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            try:
                env = await loop.run_in_executor(self.executor, self.factory)
            except EnvError:
                raise
            except Exception as exc:
                raise EnvError(
                    ErrorCode.ENV_ERROR, f"creating the environment raised {type(exc).__name__}: {exc}"
                ) from exc
            session = Session(
                env,
                config=self.config,
                executor=self.executor,
                factory=self.factory,
                default_timeout_s=self.default_timeout_s,
            )
            self._sessions[session.id] = session
            return session
        finally:
            self._pending -= 1

    def close(self, session_id: str) -> concurrent.futures.Future[Any] | None:
        """Remove a session and close its env (no-op for unknown ids)."""
        session = self._sessions.pop(session_id, None)
        return session.close() if session is not None else None

    # -- reaper and shutdown ------------------------------------------------------------------------------

    @property
    def reaping(self) -> bool:
        """True when the reaper has anything to enforce (an idle timeout or a maximum lifetime)."""
        return self.idle_timeout_s > 0 or self.max_lifetime_s > 0

    def _reap_reason(self, session: Session, now: float) -> str | None:
        if self.idle_timeout_s > 0 and now - session.last_active > self.idle_timeout_s:
            return f"idle for more than {self.idle_timeout_s} s"
        if self.max_lifetime_s > 0 and now - session.created > self.max_lifetime_s:
            return f"open for more than max_session_lifetime_s={self.max_lifetime_s}"
        return None

    async def reap_once(self) -> int:
        """Close every session idle longer than ``idle_timeout_s`` or older than ``max_lifetime_s``.

        A session with a call in flight is left alone until the call returns (it is never closed under its own
        call); it goes at the next look.

        Returns:
            How many sessions were closed.
        """
        if not self.reaping:
            return 0
        now = time.monotonic()
        victims = []
        for session in list(self._sessions.values()):
            reason = None if session.busy else self._reap_reason(session, now)
            if reason is not None:
                victims.append((session, reason))
        for session, reason in victims:
            log.info("reaping session %s (%s)", session.id, reason)
            await self._close_session(session, reason=reason)
        self.reaped += len(victims)
        return len(victims)

    async def _close_session(self, session: Session, reason: str) -> None:
        self._sessions.pop(session.id, None)
        session.close()
        closer = session.closer
        if closer is not None:
            try:
                await closer(reason)
            except Exception:  # noqa: BLE001 - a connection that is already gone
                log.debug("closing the transport of %s failed", session.id, exc_info=True)

    async def _reap_forever(self) -> None:
        interval = reap_interval(min(t for t in (self.idle_timeout_s, self.max_lifetime_s) if t > 0))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.reap_once()
            except Exception:  # noqa: BLE001 - the reaper must survive anything
                log.exception("session reaper failed")

    def start_reaper(self) -> None:
        """Start the background reaper task (no-op when neither an idle timeout nor a lifetime is set)."""
        if self.reaping and self._reaper is None:
            self._reaper = asyncio.get_running_loop().create_task(self._reap_forever())

    async def shutdown(self, timeout_s: float = 5.0) -> None:
        """Stop the reaper, close every session and its transport, wait (bounded) for env ``close()``."""
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        futures = []
        for session in list(self._sessions.values()):
            self._sessions.pop(session.id, None)
            fut = session.close()
            if fut is not None:
                futures.append(asyncio.wrap_future(fut))
            if session.closer is not None:
                with contextlib.suppress(Exception):
                    await session.closer("server shutting down")
        if futures:
            await asyncio.wait(futures, timeout=timeout_s)


__all__ = ["SessionRegistry", "reap_interval"]

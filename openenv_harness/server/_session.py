"""A transport-agnostic session: one environment instance, its episode life cycle, timeouts and config.

The WS endpoint, the HTTP routes and the in-process provider all drive environments through :class:`Session`,
so the rules live in one place:

* Before every reset the session reads ``(config, version)`` from the shared :class:`ConfigHolder` and calls
  ``env.configure`` -- a config change applies at each session's next reset, never mid-episode.
* A step before the first reset is refused with ``NOT_RESET`` (OpenEnv answers it with whatever the
  environment does; we refuse, because a step on an uninitialised env is never what the caller meant). A step
  after ``done`` is ``EPISODE_DONE``. ``state`` is answered at any time, as in OpenEnv.
* Actions are validated against ``env.action_type``; a failure is ``VALIDATION_ERROR`` naming the field.
  A ``metadata`` key is dropped when the action type has no such field, because OpenEnv's typed actions always
  carry one.
* Anything the environment raises that is not an :class:`EnvError` becomes ``ENV_ERROR`` with the exception's
  message; the session stays usable (the next reset starts clean).

How environment code runs (the event loop must never block):

* If the environment defines ``async def reset_async`` / ``async def step_async`` (same signatures as the sync
  methods), they are awaited on the event loop: declaring them is the environment author's promise not to
  block. This costs no thread at all, so it is the fast path for trivial environments.
* Otherwise the sync method runs on a **bounded, shared** thread pool (one per app, a handful of workers), never
  on a thread per session: the thread count does not grow with sessions.
* ``state`` (a property) and ``configure`` are expected to be cheap and run inline.

Timeouts: ``timeout_s`` (or the session default) bounds every reset and step. On expiry the caller gets
``TIMEOUT`` and the episode is *poisoned*: further steps get ``NOT_RESET`` until a reset. An async call is
cancelled. A sync call cannot be interrupted: it keeps its worker thread until it returns, so the next reset
replaces the instance with a fresh one from the session's factory (when it has one) and the abandoned
instance is closed as soon as its call returns. Environments that can stop work early should honour the
``timeout_s`` they are passed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from openenv_harness.spec import (
    ConfigHolder,
    EnvError,
    Environment,
    ErrorCode,
)

from ._envcall import async_variant, check_reset_kwargs, env_error, reset_params, result_to_wire
from ._executor import close_quietly, default_executor
from ._wire import validation_message

EnvFactory = Callable[[], Environment[Any, Any]]


class Session:
    """One environment instance and its episode, driven by a transport (WS, HTTP) or in-process.

    Args:
        env: The environment instance this session owns (closed by :meth:`close`).
        session_id: Identifier (a random hex id when None).
        config: The app's shared reward-config holder, or None when the env has no config.
        executor: Pool for synchronous env code (the process-wide default when None).
        factory: Builds a replacement instance after a timed-out sync call left the old one busy.
        default_timeout_s: Timeout for reset/step calls that do not give one (None: no limit).

    All public coroutines return wire dicts (``observation_to_wire`` form, or the state dump) or raise
    :class:`EnvError`. Operations on one session are serialised by a lock.
    """

    def __init__(
        self,
        env: Environment[Any, Any],
        *,
        session_id: str | None = None,
        config: ConfigHolder | None = None,
        executor: concurrent.futures.Executor | None = None,
        factory: EnvFactory | None = None,
        default_timeout_s: float | None = None,
    ) -> None:
        self.id = session_id or uuid.uuid4().hex
        self.config = config
        self.factory = factory
        self.default_timeout_s = default_timeout_s
        self.created = self.last_active = time.monotonic()
        self.closer: Callable[[str], Awaitable[None]] | None = None
        """Set by a transport to tear down its connection when the reaper or shutdown closes the session."""
        self._executor = executor or default_executor()
        self._lock = asyncio.Lock()
        self._busy = 0
        self._has_reset = False
        self._done = False
        self._poisoned: str | None = None
        self._stuck: concurrent.futures.Future[Any] | None = None
        self._closed = False
        self._deferred_close: concurrent.futures.Future[Any] | None = None
        self._bind(env)

    def _bind(self, env: Environment[Any, Any]) -> None:
        self.env = env
        action_type = env.action_type
        # the validator itself, not model_validate: same semantics without a Python wrapper on every step
        self._action_validate = action_type.__pydantic_validator__.validate_python
        self._action_has_metadata = "metadata" in action_type.model_fields
        self._reset_async = async_variant(env, "reset_async")
        self._step_async = async_variant(env, "step_async")
        self._reset_params = reset_params(self._reset_async or env.reset)

    @property
    def busy(self) -> bool:
        """True while a reset or step is in flight (the reaper never reaps a busy session)."""
        return self._busy > 0

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    @property
    def episode_active(self) -> bool:
        """True between a reset and the end (done, timeout) of its episode."""
        return self._has_reset and not self._done and self._poisoned is None

    def touch(self) -> None:
        """Mark the session as used now (transports call this for activity that is not a step)."""
        self.last_active = time.monotonic()

    # -- calls into environment code ------------------------------------------------------------------------

    async def _call(
        self,
        sync_fn: Callable[..., Any],
        async_fn: Callable[..., Any] | None,
        what: str,
        limit_s: float | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        try:
            if async_fn is not None:
                if limit_s is None:
                    return await async_fn(*args, **kwargs)
                deadline = asyncio.timeout(limit_s)
                try:
                    async with deadline:
                        return await async_fn(*args, **kwargs)
                except TimeoutError:
                    if deadline.expired():
                        raise self._timed_out(what, limit_s) from None
                    raise
            cfut = self._executor.submit(sync_fn, *args, **kwargs)
            afut = asyncio.wrap_future(cfut)
            if limit_s is None:
                return await afut
            deadline = asyncio.timeout(limit_s)
            try:
                async with deadline:
                    return await afut
            except TimeoutError:
                if not deadline.expired():  # the env's own TimeoutError
                    raise
                if not cfut.cancel():  # already running: it keeps its thread until it returns
                    self._stuck = cfut
                raise self._timed_out(what, limit_s) from None
        except (EnvError, asyncio.CancelledError):
            raise
        except Exception as exc:  # the environment's own bug: report it, keep serving
            raise env_error(what, exc) from exc

    def _timed_out(self, what: str, limit_s: float) -> EnvError:
        self._poisoned = f"the previous {what} timed out after {limit_s} s"
        return EnvError(
            ErrorCode.TIMEOUT,
            f"{what} did not finish within timeout_s={limit_s}; the episode is abandoned, reset to start a "
            "new one",
            {"timeout_s": limit_s},
        )

    def _replace_stuck_env(self) -> None:
        """Swap in a fresh instance when a timed-out sync call still holds the old one."""
        stuck = self._stuck
        if stuck is None:
            return
        if stuck.done():
            self._stuck = None
            return
        if self.factory is None:
            raise EnvError(
                ErrorCode.TIMEOUT,
                "the environment is still running a call that timed out and this session cannot build a new "
                "instance; close the session and open a new one",
            )
        old = self.env
        executor = self._executor
        stuck.add_done_callback(lambda _f: executor.submit(close_quietly, old))
        self._stuck = None
        self._bind(self.factory())

    # -- operations -----------------------------------------------------------------------------------------

    async def reset(
        self, kwargs: dict[str, Any] | None = None, timeout_s: float | None = None
    ) -> dict[str, Any]:
        """Start an episode: install the current reward config, then ``env.reset(**kwargs)``.

        Args:
            kwargs: Reset arguments (``seed``, ``episode_id``, task selection).
            timeout_s: Time limit for the env's reset (the session default when None).

        Returns:
            The first observation in wire form.
        """
        kwargs = check_reset_kwargs(kwargs, self._reset_params, type(self.env).__name__)
        timeout_s = self.default_timeout_s if timeout_s is None else timeout_s
        async with self._lock:
            self._check_open()
            self._busy += 1
            try:
                self._replace_stuck_env()
                if self.config is not None:
                    self.env.configure(*self.config.get())
                self._has_reset = False
                obs = await self._call(self.env.reset, self._reset_async, "reset", timeout_s, (), kwargs)
                wire = result_to_wire(obs, "reset")
                self._has_reset, self._done, self._poisoned = True, bool(obs.done), None
                return wire
            finally:
                self._busy -= 1
                self.last_active = time.monotonic()
                if self._deferred_close is not None and not self._busy:
                    self._finish_deferred_close()

    async def step(self, action: Any, timeout_s: float | None = None) -> dict[str, Any]:
        """Validate ``action`` against the env's action type and apply it.

        Args:
            action: The action object (a JSON object of action fields).
            timeout_s: Time limit for the env's step (the session default when None).

        Returns:
            The observation in wire form.
        """
        if not isinstance(action, dict):
            raise EnvError(
                ErrorCode.VALIDATION_ERROR, f"action: must be a JSON object, got {type(action).__name__}"
            )
        if "metadata" in action and not self._action_has_metadata:
            action = {k: v for k, v in action.items() if k != "metadata"}
        try:
            typed = self._action_validate(action)
        except ValidationError as exc:
            message, errors = validation_message(exc, "action")
            raise EnvError(ErrorCode.VALIDATION_ERROR, message, {"errors": errors}) from None
        limit_s = self.default_timeout_s if timeout_s is None else timeout_s
        lock = self._lock
        await lock.acquire()  # plain acquire/release: this is the per-step hot path
        self._busy += 1
        try:
            self._check_open()
            if self._poisoned is not None:
                raise EnvError(ErrorCode.NOT_RESET, f"{self._poisoned}; reset to start a new episode")
            if not self._has_reset:
                raise EnvError(
                    ErrorCode.NOT_RESET, "step before reset: send a reset first to start an episode"
                )
            if self._done:
                raise EnvError(ErrorCode.EPISODE_DONE, "the episode is done; reset to start a new one")
            step_async = self._step_async
            if step_async is not None and limit_s is None:  # fast path: no timer, no extra frame
                try:
                    obs = await step_async(typed, timeout_s=None)
                except (EnvError, asyncio.CancelledError):
                    raise
                except Exception as exc:
                    raise env_error("step", exc) from exc
            else:
                obs = await self._call(
                    self.env.step, step_async, "step", limit_s, (typed,), {"timeout_s": limit_s}
                )
            try:
                wire = result_to_wire(obs, "step")
            except EnvError as err:
                if err.code == ErrorCode.REWARD_NOT_FINITE:  # the client never sees this step's result
                    self._poisoned = "the previous step's reward was not a finite number"
                raise
            self._done = bool(obs.done)
            return wire
        finally:
            self._busy -= 1
            lock.release()
            self.last_active = time.monotonic()
            if self._deferred_close is not None and not self._busy:
                self._finish_deferred_close()

    async def state(self) -> dict[str, Any]:
        """The env's state (answered before the first reset too, as OpenEnv does).

        Not activity for the idle reaper: only resets and steps are, so a client that polls ``state`` cannot hold
        a session (and a slot under ``max_sessions``) forever without playing an episode.
        """
        self._check_open()
        try:
            state = self.env.state
            return state.model_dump(mode="json") if hasattr(state, "model_dump") else dict(state or {})
        except EnvError:
            raise
        except Exception as exc:
            raise EnvError(ErrorCode.ENV_ERROR, f"state raised {type(exc).__name__}: {exc}") from exc

    def close(self) -> concurrent.futures.Future[Any] | None:
        """End the session and release the env (idempotent; never blocks on environment code).

        New operations fail with ``SESSION_NOT_FOUND`` at once; a reset or step already in flight finishes
        first and ``env.close()`` runs after it, so an environment is never closed under its own call.

        Returns:
            A future that completes when ``env.close()`` has run, or None if already closed.
        """
        if self._closed:
            return None
        self._closed = True
        if self._busy:
            self._deferred_close = concurrent.futures.Future()
            return self._deferred_close
        return self._release()

    def _finish_deferred_close(self) -> None:
        deferred, self._deferred_close = self._deferred_close, None
        released = self._release()
        if deferred is None:
            return
        if released is None:
            deferred.set_result(None)
        else:
            released.add_done_callback(lambda _f: deferred.set_result(None))

    def _release(self) -> concurrent.futures.Future[Any] | None:
        env = self.env
        stuck = self._stuck
        if stuck is not None and not stuck.done():  # a timed-out sync call still runs: close after it
            done: concurrent.futures.Future[Any] = concurrent.futures.Future()
            executor = self._executor

            def _after(_f: Any) -> None:
                try:
                    executor.submit(close_quietly, env).add_done_callback(lambda _g: done.set_result(None))
                except RuntimeError:  # pool already shut down
                    close_quietly(env)
                    done.set_result(None)

            stuck.add_done_callback(_after)
            return done
        try:
            return self._executor.submit(close_quietly, env)
        except RuntimeError:  # pool already shut down (interpreter exit): close here
            close_quietly(env)
            return None

    # -- helpers --------------------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise EnvError(ErrorCode.SESSION_NOT_FOUND, f"session {self.id} is closed; start a new session")


__all__ = ["EnvFactory", "Session"]

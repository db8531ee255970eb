"""Environments in this process, no sockets: clients drive the server's own transport-agnostic ``Session``.

Because the same :class:`~openenv_harness.server.Session` runs behind WS, HTTP and this provider, the rules are
identical everywhere: the reward config is read at each reset, a step before reset is ``NOT_RESET``, a crashing
environment is ``ENV_ERROR``, a timed-out step poisons the episode. Only the transport is missing.

The sync client runs the session's coroutines on a private event loop (one per client, no thread of its
own); synchronous environment code runs on the server's shared worker pool as it would in a server. Inside
a running event loop use :meth:`InProcessProvider.async_client`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any, Generic

from ..client._protocol import OURS, action_data, reset_data
from ..spec import (
    Action,
    ConfigHolder,
    EnvError,
    Environment,
    ErrorCode,
    State,
    observation_from_wire,
)
from ..spec._types import ObsT
from ._provider import Provider


class _InProcessBase(Generic[ObsT]):
    def __init__(
        self,
        provider: InProcessProvider,
        action_type: type[Action] | None = None,
        observation_type: type[ObsT] | None = None,
        state_type: type[State] | None = None,
    ) -> None:
        from ..server import Session

        env_class = provider.env_class
        self._provider = provider
        self.action_type: type[Action] = action_type or env_class.action_type
        self.observation_type: type[ObsT] = observation_type or env_class.observation_type  # type: ignore[assignment]
        self.state_type: type[State] = state_type or env_class.state_type
        self.protocol = OURS
        self.discarded_replies = 0
        self._session = Session(
            provider.factory(),
            config=provider.config,
            factory=provider.factory,
            default_timeout_s=provider.default_step_timeout_s,
        )
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise EnvError(ErrorCode.CONNECTION_LOST, "this client was closed; create a new one")

    def _obs(self, wire: dict[str, Any]) -> ObsT:
        wire.pop("session_id", None)
        return observation_from_wire(wire, self.observation_type)

    def health(self) -> dict[str, Any]:
        """Always healthy: the environment lives in this process."""
        return {"status": "healthy", "in_process": True}

    def metadata(self) -> dict[str, Any]:
        """What ``GET /metadata`` would answer."""
        return self._provider.metadata()

    def schema(self) -> dict[str, Any]:
        """JSON schemas of action, observation, state and config."""
        return self._provider.env_class.schemas()

    def get_config(self, token: str | None = None) -> dict[str, Any]:
        """The effective reward config snapshot (``token`` is accepted for symmetry; nothing to guard here)."""
        return self._provider.config_holder().snapshot()

    def push_config(self, update: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        """Update the shared reward config (applied at each session's next reset)."""
        return self._provider.config_holder().update(update)


class InProcessClient(_InProcessBase[ObsT]):
    """Sync client of an in-process session; same face as :class:`~openenv_harness.client.EnvClient`."""

    def __init__(self, provider: InProcessProvider, **types: Any) -> None:
        super().__init__(provider, **types)
        self._loop = asyncio.new_event_loop()

    def reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        timeout_s: float | None = None,
        **task: Any,
    ) -> ObsT:
        """Start a new episode."""
        self._check_open()
        return self._obs(
            self._loop.run_until_complete(self._session.reset(reset_data(seed, episode_id, task), timeout_s))
        )

    def step(self, action: Action | dict[str, Any], timeout_s: float | None = None) -> ObsT:
        """Apply one action."""
        self._check_open()
        data = action_data(action, self.action_type)
        return self._obs(self._loop.run_until_complete(self._session.step(data, timeout_s)))

    def state(self) -> State:
        """The episode state."""
        self._check_open()
        return self.state_type.model_validate(self._loop.run_until_complete(self._session.state()))

    def close(self) -> None:
        """Close the session and its environment (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._session.close()
        self._loop.close()

    def __enter__(self) -> InProcessClient[ObsT]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncInProcessClient(_InProcessBase[ObsT]):
    """Async client of an in-process session; same face as :class:`~openenv_harness.client.AsyncEnvClient`."""

    async def reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        timeout_s: float | None = None,
        **task: Any,
    ) -> ObsT:
        """Start a new episode."""
        self._check_open()
        return self._obs(await self._session.reset(reset_data(seed, episode_id, task), timeout_s))

    async def step(self, action: Action | dict[str, Any], timeout_s: float | None = None) -> ObsT:
        """Apply one action."""
        self._check_open()
        return self._obs(await self._session.step(action_data(action, self.action_type), timeout_s))

    async def state(self) -> State:
        """The episode state."""
        self._check_open()
        return self.state_type.model_validate(await self._session.state())

    async def close(self) -> None:  # type: ignore[override]
        """Close the session and its environment (idempotent)."""
        if not self._closed:
            self._closed = True
            self._session.close()

    async def __aenter__(self) -> AsyncInProcessClient[ObsT]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class InProcessProvider(Provider):
    """Environments in this process: one instance per client, the reward config shared like a server's.

    Args:
        env: A registered id, an :class:`Environment` subclass or a zero-argument factory.
        default_step_timeout_s: ``timeout_s`` for resets/steps that give none (None: no limit).
        **env_kwargs: Environment constructor arguments.
    """

    def __init__(
        self,
        env: str | type[Environment[Any, Any]] | Callable[[], Environment[Any, Any]],
        default_step_timeout_s: float | None = None,
        **env_kwargs: Any,
    ) -> None:
        from ..server import resolve_env

        super().__init__(env_id=env if isinstance(env, str) else None)
        self.env_class, self.factory = resolve_env(env, env_kwargs)
        self.default_step_timeout_s = default_step_timeout_s
        ctype = self.env_class.config_type
        self.config: ConfigHolder | None = ConfigHolder(ctype) if ctype is not None else None
        self._started = False

    def start(self) -> list[str]:
        """Nothing to start; returns ``[]`` (there are no URLs)."""
        self._started = True
        return []

    def stop(self) -> None:
        """Nothing to stop (clients close their own sessions); idempotent."""
        self._started = False

    def wait_healthy(self, timeout_s: float = 30.0) -> None:
        """Always healthy."""

    def config_holder(self) -> ConfigHolder:
        """The shared config holder (``UNSUPPORTED`` if the environment has no reward config)."""
        if self.config is None:
            raise EnvError(ErrorCode.UNSUPPORTED, f"{self.env_class.__name__} has no reward config")
        return self.config

    def metadata(self) -> dict[str, Any]:
        """What a server's ``GET /metadata`` would answer."""
        return {
            **self.env_class.metadata().model_dump(mode="json"),
            "server": "openenv_harness",
            "protocol": dataclasses.asdict(OURS),
            "in_process": True,
        }

    @staticmethod
    def _types(kwargs: dict[str, Any]) -> dict[str, Any]:
        # Transport arguments (timeouts, URLs, tokens) mean nothing without a transport; the models do.
        return {k: kwargs[k] for k in ("action_type", "observation_type", "state_type") if kwargs.get(k)}

    def client(self, **kwargs: Any) -> InProcessClient[Any]:
        """A sync client on a fresh in-process session.

        Args:
            **kwargs: Client arguments; ``action_type``/``observation_type``/``state_type`` are honoured
                (default: the environment's own), transport ones (timeouts, token) are ignored.
        """
        return InProcessClient(self, **self._types(kwargs))

    def async_client(self, **kwargs: Any) -> AsyncInProcessClient[Any]:
        """An async client on a fresh in-process session (arguments as :meth:`client`)."""
        return AsyncInProcessClient(self, **self._types(kwargs))

    def push_config(self, update: dict[str, Any], token: str | None = None) -> list[dict[str, Any]]:
        """Update the shared config; returns ``[snapshot]`` (one "server")."""
        return [self.config_holder().update(update)]

    def get_config(self, token: str | None = None) -> list[dict[str, Any]]:
        """``[snapshot]`` of the shared config (``token`` is ignored: no transport to guard)."""
        return [self.config_holder().snapshot()]

"""What ``check_env`` can check, behind one face: a local environment, a factory, a provider or a client.

- An :class:`~openenv_harness.spec.Environment` instance is driven directly (dict actions are validated the
  way a server validates them); each check reuses that one instance.
- An ``Environment`` subclass or a zero-argument factory gives a fresh instance per check.
- A provider (anything with ``client()``, e.g. ``InProcessProvider``, ``LocalProcessProvider``) gives a
  fresh session per check: this is how an environment is checked *as served* (in-process or over WS).
- A client (anything with ``reset``/``step``/``state``) is driven as is; it is not closed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from ..spec import Action, EnvError, Environment, ErrorCode, Observation, State


class Session:
    """One episode driver with dict actions."""

    observation_type: type[Observation]
    action_type: type[Action]

    def reset(self, seed: int | None, **task: Any) -> Observation:  # pragma: no cover - interface
        """Start an episode."""
        raise NotImplementedError

    def step(self, action: dict[str, Any]) -> Observation:  # pragma: no cover - interface
        """Apply one action."""
        raise NotImplementedError

    def state(self) -> State:  # pragma: no cover - interface
        """Episode state."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the session."""


class _EnvSession(Session):
    def __init__(self, env: Environment[Any, Any], owned: bool) -> None:
        self.env = env
        self.owned = owned
        self.observation_type = env.observation_type
        self.action_type = env.action_type

    def reset(self, seed: int | None, **task: Any) -> Observation:
        return self.env.reset(seed=seed, **task)

    def step(self, action: dict[str, Any]) -> Observation:
        try:
            typed = self.action_type.model_validate(action)
        except ValidationError as exc:
            raise EnvError(ErrorCode.VALIDATION_ERROR, f"invalid action: {exc.errors()[0]['msg']}") from None
        return self.env.step(typed)

    def state(self) -> State:
        return self.env.state

    def close(self) -> None:
        if self.owned:
            self.env.close()


class _ClientSession(Session):
    def __init__(self, client: Any, owned: bool) -> None:
        self.client = client
        self.owned = owned
        self.observation_type = getattr(client, "observation_type", Observation)
        self.action_type = getattr(client, "action_type", Action)

    def reset(self, seed: int | None, **task: Any) -> Observation:
        obs: Observation = self.client.reset(seed=seed, **task)
        return obs

    def step(self, action: dict[str, Any]) -> Observation:
        obs: Observation = self.client.step(action)
        return obs

    def state(self) -> State:
        st: State = self.client.state()
        return st

    def close(self) -> None:
        if self.owned:
            self.client.close()


class Target:
    """Hands out sessions of the checked environment.

    Args:
        target: An environment instance, class or factory, a provider, or a client.
    """

    def __init__(self, target: Any) -> None:
        self._new: Callable[[], Session]
        self.fresh = True
        if isinstance(target, Environment):
            self.description = type(target).__name__
            self.fresh = False
            self._new = lambda: _EnvSession(target, owned=False)
            self._schemas: Callable[[], dict[str, Any]] = target.schemas
        elif inspect.isclass(target) and issubclass(target, Environment):
            self.description = target.__name__
            self._new = lambda: _EnvSession(target(), owned=True)
            self._schemas = target.schemas
        elif hasattr(target, "client") and callable(target.client) and not hasattr(target, "step"):
            self.description = f"{type(target).__name__}({getattr(target, 'env_id', '')})"
            self._new = lambda: _ClientSession(target.client(), owned=True)
            self._schemas = lambda: self._client_schema(target)
        elif all(hasattr(target, op) for op in ("reset", "step", "state")):
            self.description = f"{type(target).__name__}({getattr(target, 'base_url', '')})"
            self.fresh = False
            self._new = lambda: _ClientSession(target, owned=False)
            self._schemas = lambda: dict(target.schema()) if hasattr(target, "schema") else {}
        elif callable(target):
            self.description = getattr(target, "__name__", repr(target))

            def make() -> Session:
                env = target()
                if not isinstance(env, Environment):
                    raise TypeError(f"factory returned {type(env).__name__}, not an Environment")
                return _EnvSession(env, owned=True)

            def schemas() -> dict[str, Any]:
                session = make()
                try:
                    return session.env.schemas()  # type: ignore[attr-defined,no-any-return]
                finally:
                    session.close()

            self._new = make
            self._schemas = schemas
        else:
            raise TypeError(
                f"check_env cannot drive {type(target).__name__}: pass an Environment (instance, class or "
                "factory), a provider with client(), or a client with reset/step/state"
            )

    @staticmethod
    def _client_schema(provider: Any) -> dict[str, Any]:
        client = provider.client()
        try:
            return dict(client.schema())
        finally:
            client.close()

    def session(self) -> Session:
        """A session (fresh unless the target is a single instance or client)."""
        return self._new()

    def schemas(self) -> dict[str, Any]:
        """The action/observation/state JSON schemas."""
        return self._schemas()

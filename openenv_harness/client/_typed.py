"""Clients typed for a registered environment: the id names the action, observation and state models."""

from __future__ import annotations

from typing import Any, Literal

from ..spec import spec
from ._async import AsyncEnvClient
from ._http import HTTPEnvClient
from ._sync import EnvClient


def env_types(env_id: str) -> dict[str, Any]:
    """``action_type``/``observation_type``/``state_type`` keyword arguments for a registered env id.

    Importing the environment class is enough; no instance is built.

    Raises:
        KeyError: naming the registered ids when ``env_id`` is unknown.
    """
    cls = spec(env_id).load()
    return {
        "action_type": cls.action_type,
        "observation_type": cls.observation_type,
        "state_type": cls.state_type,
    }


def client_for(
    env_id: str, base_url: str, *, transport: Literal["ws", "http"] = "ws", **kwargs: Any
) -> EnvClient[Any] | HTTPEnvClient[Any]:
    """A sync client whose replies parse into ``env_id``'s own models.

    Args:
        env_id: A registered environment id (e.g. ``"echo"``).
        base_url: ``http://HOST:PORT`` of a server for that environment.
        transport: ``"ws"`` (default) or ``"http"`` (stateful HTTP routes).
        **kwargs: Further client arguments (``token``, ``request_timeout_s``...).
    """
    if transport == "ws":
        return EnvClient(base_url, **env_types(env_id), **kwargs)
    if transport == "http":
        return HTTPEnvClient(base_url, **env_types(env_id), **kwargs)
    raise ValueError(f"transport must be 'ws' or 'http', got {transport!r}")


def async_client_for(env_id: str, base_url: str, **kwargs: Any) -> AsyncEnvClient[Any]:
    """An :class:`AsyncEnvClient` whose replies parse into ``env_id``'s own models."""
    return AsyncEnvClient(base_url, **env_types(env_id), **kwargs)

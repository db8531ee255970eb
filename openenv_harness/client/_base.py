"""Constructor arguments and read-only properties shared by the sync and async WebSocket clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic

from ..spec import Action, GenericAction, GenericObservation, State
from ..spec._types import ObsT
from ._core import ClientCore
from ._protocol import ServerProtocol, normalize_base_url


class WSClientBase(Generic[ObsT]):
    """Shared state of :class:`EnvClient` and :class:`AsyncEnvClient` (see ``EnvClient`` for the arguments)."""

    def __init__(
        self,
        base_url: str,
        *,
        action_type: type[Action] = GenericAction,
        observation_type: type[ObsT] = GenericObservation,  # type: ignore[assignment]
        state_type: type[State] = State,
        token: str | None = None,
        request_timeout_s: float = 120.0,
        connect_timeout_s: float = 10.0,
        reply_grace_s: float = 5.0,
        protocol: ServerProtocol | None = None,
        reconnect_url: Callable[[], str] | None = None,
        max_message_bytes: int | None = 64 * 2**20,
    ) -> None:
        self.action_type = action_type
        self.observation_type = observation_type
        self.state_type = state_type
        self.token = token
        self.connect_timeout_s = connect_timeout_s
        self._core = ClientCore(normalize_base_url(base_url), reconnect_url, request_timeout_s, reply_grace_s)
        self._fixed_protocol = protocol
        self._protocols: dict[str, ServerProtocol] = {}
        self._max_size = max_message_bytes
        self._closed = False

    @property
    def base_url(self) -> str:
        """The server this client talks (or last talked) to."""
        return self._core.base_url

    @property
    def protocol(self) -> ServerProtocol | None:
        """Capabilities of the connected server (None before the first connection)."""
        return self._core.protocol

    @property
    def discarded_replies(self) -> int:
        """Late replies (to timed-out requests) that were discarded."""
        return self._core.discarded

"""The synchronous WebSocket env client.

It reads the socket in the caller's own thread (see :mod:`._blocking_ws`), so a client costs one socket and
no thread of its own, and a step is one write and one read. While a client is idle, one process-wide thread
answers the server's pings for it (see :mod:`._keepalive`). A client object is not thread-safe.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from ..spec import Action, EnvError, ErrorCode, State
from ..spec._types import ObsT
from ._base import WSClientBase
from ._blocking_ws import BlockingWebSocket, HandshakeRejected, WebSocketClosed
from ._control import ControlAPI
from ._core import server_error
from ._protocol import (
    PLAIN,
    ServerProtocol,
    action_data,
    decode,
    parse_observation,
    parse_state,
    reset_data,
    ws_url,
)


class EnvClient(WSClientBase[ObsT]):
    """Drive one environment session over ``WS /ws`` (OpenEnv-compatible, with our extensions when present).

    One client holds one session, i.e. one trajectory at a time; run many clients for a pool.

    Args:
        base_url: ``http://HOST:PORT`` of the server.
        action_type: Action model used to validate dict actions client-side.
        observation_type: Observation model replies are parsed into.
        state_type: State model :meth:`state` returns.
        token: Orchestrator token for :meth:`push_config` and :meth:`get_config`.
        request_timeout_s: Client-side wait for a reply when a call sets no ``timeout_s``.
        connect_timeout_s: How long (re)connecting keeps retrying (e.g. while a server restarts).
        reply_grace_s: Extra client-side wait beyond a step's ``timeout_s`` that our server enforces.
        protocol: Skip detection and assume these server capabilities (None: ask ``GET /metadata``).
        reconnect_url: Chooses the server on each reconnect (providers pass their round-robin).
        max_message_bytes: Largest reply accepted.

    Example:
        >>> with EnvClient("http://127.0.0.1:8000") as env:  # doctest: +SKIP
        ...     obs = env.reset(seed=1)
        ...     obs = env.step({"message": "hi"})
    """

    _ws: BlockingWebSocket | None = None
    _control: ControlAPI | None = None

    def _control_api(self) -> ControlAPI:
        if self._control is None or self._control.base_url != self._core.base_url:
            if self._control is not None:
                self._control.close()
            self._control = ControlAPI(self._core.base_url, token=self.token)
        return self._control

    def _detect(self, url: str) -> ServerProtocol:
        if self._fixed_protocol is not None:
            return self._fixed_protocol
        if url not in self._protocols:
            try:
                self._protocols[url] = self._control_api().protocol()
            except EnvError as exc:
                if exc.code == ErrorCode.CONNECTION_LOST:
                    raise
                self._protocols[url] = PLAIN  # no usable /metadata: speak plain OpenEnv
        return self._protocols[url]

    def _drop(self) -> None:
        if self._ws is not None:
            ws, self._ws = self._ws, None
            ws.close(timeout_s=0.2)

    def _connect(self) -> BlockingWebSocket:
        if self._closed:
            raise EnvError(ErrorCode.CONNECTION_LOST, "this client was closed; create a new one")
        self._drop()
        deadline = time.monotonic() + self.connect_timeout_s
        delay = 0.05
        while True:
            url = self._core.next_url()
            try:
                protocol = self._detect(url)
                ws = BlockingWebSocket(
                    ws_url(url), open_timeout_s=self.connect_timeout_s, max_size=self._max_size
                )
            except HandshakeRejected as exc:
                raise EnvError(
                    ErrorCode.UNSUPPORTED, f"{url} does not serve an environment WebSocket at /ws: {exc}"
                ) from None
            except (OSError, EnvError) as exc:
                if isinstance(exc, EnvError) and exc.code != ErrorCode.CONNECTION_LOST:
                    raise
                if time.monotonic() + delay > deadline:
                    raise EnvError(
                        ErrorCode.CONNECTION_LOST,
                        f"cannot connect to {url} within {self.connect_timeout_s}s: {exc}",
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
                self._core.connected_once = True  # let a pool's picker offer another server
                continue
            self._core.on_connected(protocol)
            self._ws = ws
            return ws

    def _call(self, op: str, frame: dict[str, Any], timeout_s: float | None) -> dict[str, Any]:
        ws = self._ws
        if ws is not None and not ws.open and op != "reset":
            # Closed while idle (server restart, idle reaper, missed pings): the episode is gone.
            early = server_error(ws.take_pending())
            reason = ws.close_reason
            self._drop()
            raise early or self._core.on_lost(op, ConnectionError(reason))
        if ws is None or not ws.open:
            if op != "reset":
                self._core.check_usable(op)
                raise EnvError(ErrorCode.NOT_RESET, f"cannot {op} before reset()")
            ws = self._connect()
        text, rid, wait = self._core.prepare(frame, timeout_s)
        deadline = time.monotonic() + wait
        try:
            with ws.io_lock:  # shared only with the keep-alive thread, which never waits for it
                ws.send(text)
                while True:
                    msg = decode(ws.recv(max(0.0, deadline - time.monotonic())))
                    if self._core.accept(msg, rid):
                        return msg
        except TimeoutError:
            err, poisoned = self._core.on_timeout(op, rid, wait)
            if poisoned:
                self._drop()
            raise err from None
        except (WebSocketClosed, OSError) as exc:
            early = server_error(ws.take_pending())
            self._drop()
            raise (early or self._core.on_lost(op, exc)) from None

    # -- environment operations -----------------------------------------------------------------------------

    def reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        timeout_s: float | None = None,
        **task: Any,
    ) -> ObsT:
        """Start a new episode (reconnecting first if the connection was lost).

        Args:
            seed: Determines the episode.
            episode_id: Identifier to record.
            timeout_s: Client-side budget for the reply.
            **task: Task selection passed to the environment's reset.

        Raises:
            EnvError: the server's error, ``TIMEOUT`` or ``CONNECTION_LOST``.
        """
        frame = {"type": "reset", "data": reset_data(seed, episode_id, task)}
        had_connection = self._ws is not None and self._ws.open
        try:
            msg = self._call("reset", frame, timeout_s)
        except EnvError as exc:
            # An idle connection may have died unnoticed (server restarted): reset retries once on a fresh one.
            if exc.code != ErrorCode.CONNECTION_LOST or self._closed or not had_connection:
                raise
            frame = {"type": "reset", "data": reset_data(seed, episode_id, task)}
            self._connect()
            msg = self._call("reset", frame, timeout_s)
        obs = parse_observation(msg, self.observation_type)
        self._core.lost = None
        return obs  # type: ignore[return-value]

    def step(self, action: Action | dict[str, Any], timeout_s: float | None = None) -> ObsT:
        """Apply one action.

        Args:
            action: An instance of ``action_type`` or a dict of its fields.
            timeout_s: Step budget (enforced by our server; client-side only on plain OpenEnv servers).

        Raises:
            EnvError: the server's error (e.g. ``EPISODE_DONE``, ``VALIDATION_ERROR``), ``TIMEOUT`` or
                ``CONNECTION_LOST``.
        """
        self._core.check_usable("step")
        frame = {"type": "step", "data": action_data(action, self.action_type)}
        return parse_observation(self._call("step", frame, timeout_s), self.observation_type)  # type: ignore[return-value]

    def state(self) -> State:
        """The episode state (episode id, step count, env-specific fields)."""
        self._core.check_usable("state")
        return parse_state(self._call("state", {"type": "state"}, None), self.state_type)

    # -- control surface ------------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``GET /health`` of the current server."""
        return self._control_api().health()

    def metadata(self) -> dict[str, Any]:
        """``GET /metadata`` of the current server."""
        return self._control_api().metadata()

    def schema(self) -> dict[str, Any]:
        """``GET /schema`` of the current server."""
        return self._control_api().schema()

    def get_config(self, token: str | None = None) -> dict[str, Any]:
        """``GET /config`` of the current server (sends ``token`` or the client's own)."""
        return self._control_api().get_config(token=token)

    def push_config(self, update: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        """``POST /config`` to the current server; applied at each session's next reset."""
        return self._control_api().push_config(update, token=token)

    def close(self) -> None:
        """End the session (a ``close`` frame) and release the connection. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._ws is not None and self._ws.open:
            with contextlib.suppress(WebSocketClosed, OSError), self._ws.io_lock:
                self._ws.send('{"type":"close"}')
        self._drop()
        if self._control is not None:
            self._control.close()
            self._control = None

    def __enter__(self) -> EnvClient[ObsT]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        ws = getattr(self, "_ws", None)
        if ws is not None:
            with contextlib.suppress(Exception):
                ws._sock.close()

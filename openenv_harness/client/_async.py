"""The asynchronous WebSocket env client; same face and semantics as the sync one (frames via ``_aio_ws``)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from ..spec import Action, EnvError, ErrorCode, State
from ..spec._types import ObsT
from ._aio_ws import AsyncWebSocket, HandshakeRejected, WebSocketClosed
from ._base import WSClientBase
from ._control import AsyncControlAPI
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


class AsyncEnvClient(WSClientBase[ObsT]):
    """Async twin of :class:`~openenv_harness.client.EnvClient`: same arguments, awaitable methods.

    Calls on one client are serialised (one session has one request in flight); run many clients
    concurrently for a pool. See :class:`~openenv_harness.client.EnvClient` for the arguments.
    """

    _ws: AsyncWebSocket | None = None
    _control: AsyncControlAPI | None = None
    _lock_obj: asyncio.Lock | None = None

    @property
    def _lock(self) -> asyncio.Lock:
        # Created on first use so the lock belongs to the loop that drives this client.
        if self._lock_obj is None:
            self._lock_obj = asyncio.Lock()
        return self._lock_obj

    async def _control_api(self) -> AsyncControlAPI:
        if self._control is None or self._control.base_url != self._core.base_url:
            if self._control is not None:
                await self._control.close()
            self._control = AsyncControlAPI(self._core.base_url, token=self.token)
        return self._control

    async def _detect(self, url: str) -> ServerProtocol:
        if self._fixed_protocol is not None:
            return self._fixed_protocol
        if url not in self._protocols:
            try:
                self._protocols[url] = await (await self._control_api()).protocol()
            except EnvError as exc:
                if exc.code == ErrorCode.CONNECTION_LOST:
                    raise
                self._protocols[url] = PLAIN
        return self._protocols[url]

    def _is_open(self) -> bool:
        return self._ws is not None and self._ws.open

    async def _drop(self) -> None:
        if self._ws is not None:
            ws, self._ws = self._ws, None
            with contextlib.suppress(OSError):
                await ws.close(0.2)

    async def _connect(self) -> AsyncWebSocket:
        if self._closed:
            raise EnvError(ErrorCode.CONNECTION_LOST, "this client was closed; create a new one")
        await self._drop()
        deadline = time.monotonic() + self.connect_timeout_s
        delay = 0.05
        while True:
            # A provider's picker may restart a crashed server (seconds): keep that off the event loop.
            url = (
                await asyncio.to_thread(self._core.next_url)
                if self._core.connected_once
                else self._core.base_url
            )
            try:
                protocol = await self._detect(url)
                ws = await AsyncWebSocket.connect(ws_url(url), self.connect_timeout_s, self._max_size)
            except HandshakeRejected as exc:
                raise EnvError(
                    ErrorCode.UNSUPPORTED, f"{url} does not serve an environment WebSocket at /ws: {exc}"
                ) from None
            except (OSError, TimeoutError, EnvError) as exc:
                if isinstance(exc, EnvError) and exc.code != ErrorCode.CONNECTION_LOST:
                    raise
                if time.monotonic() + delay > deadline:
                    raise EnvError(
                        ErrorCode.CONNECTION_LOST,
                        f"cannot connect to {url} within {self.connect_timeout_s}s: {exc}",
                    ) from exc
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.5)
                self._core.connected_once = True
                continue
            self._core.on_connected(protocol)
            self._ws = ws
            return ws

    async def _call(self, op: str, frame: dict[str, Any], timeout_s: float | None) -> dict[str, Any]:
        async with self._lock:
            ws = self._ws
            if ws is not None and not self._is_open() and op != "reset":
                # Closed while idle (server restart, idle reaper): the episode is gone.
                early = server_error(list(ws.take_pending()))
                reason = ws.close_reason
                await self._drop()
                raise early or self._core.on_lost(op, ConnectionError(reason))
            if ws is None or not self._is_open():
                if op != "reset":
                    self._core.check_usable(op)
                    raise EnvError(ErrorCode.NOT_RESET, f"cannot {op} before reset()")
                ws = await self._connect()
            text, rid, wait = self._core.prepare(frame, timeout_s)
            try:
                ws.send(text)
                deadline = ws.time() + wait
                while True:
                    msg = decode(await ws.recv(deadline))
                    if self._core.accept(msg, rid):
                        return msg
            except TimeoutError:
                err, poisoned = self._core.on_timeout(op, rid, wait)
                if poisoned:
                    await self._drop()
                raise err from None
            except (WebSocketClosed, OSError) as exc:
                early = server_error(list(ws.take_pending()))
                await self._drop()
                raise (early or self._core.on_lost(op, exc)) from None

    async def reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        timeout_s: float | None = None,
        **task: Any,
    ) -> ObsT:
        """Start a new episode (reconnecting first if the connection was lost); see ``EnvClient.reset``."""
        had_connection = self._is_open()
        try:
            msg = await self._call(
                "reset", {"type": "reset", "data": reset_data(seed, episode_id, task)}, timeout_s
            )
        except EnvError as exc:
            if exc.code != ErrorCode.CONNECTION_LOST or self._closed or not had_connection:
                raise
            await self._connect()
            msg = await self._call(
                "reset", {"type": "reset", "data": reset_data(seed, episode_id, task)}, timeout_s
            )
        obs = parse_observation(msg, self.observation_type)
        self._core.lost = None
        return obs  # type: ignore[return-value]

    async def step(self, action: Action | dict[str, Any], timeout_s: float | None = None) -> ObsT:
        """Apply one action; see ``EnvClient.step``."""
        self._core.check_usable("step")
        frame = {"type": "step", "data": action_data(action, self.action_type)}
        msg = await self._call("step", frame, timeout_s)
        return parse_observation(msg, self.observation_type)  # type: ignore[return-value]

    async def state(self) -> State:
        """The episode state."""
        self._core.check_usable("state")
        return parse_state(await self._call("state", {"type": "state"}, None), self.state_type)

    async def health(self) -> dict[str, Any]:
        """``GET /health`` of the current server."""
        return await (await self._control_api()).health()

    async def metadata(self) -> dict[str, Any]:
        """``GET /metadata`` of the current server."""
        return await (await self._control_api()).metadata()

    async def schema(self) -> dict[str, Any]:
        """``GET /schema`` of the current server."""
        return await (await self._control_api()).schema()

    async def get_config(self, token: str | None = None) -> dict[str, Any]:
        """``GET /config`` of the current server (sends ``token`` or the client's own)."""
        return await (await self._control_api()).get_config(token=token)

    async def push_config(self, update: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        """``POST /config`` to the current server; applied at each session's next reset."""
        return await (await self._control_api()).push_config(update, token=token)

    async def close(self) -> None:
        """End the session and release the connection. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._ws is not None and self._is_open():
            with contextlib.suppress(OSError):
                self._ws.send('{"type":"close"}')
        await self._drop()
        if self._control is not None:
            await self._control.close()
            self._control = None

    async def __aenter__(self) -> AsyncEnvClient[ObsT]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

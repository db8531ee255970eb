import asyncio
import math

import pytest
from server_envs import ClosingEcho

from envs.echo import EchoEnvironment
from openenv_harness.server import SessionRegistry, create_app, make_executor, reap_interval, resolve_env
from openenv_harness.server._wire import dumps, http_status, loads
from openenv_harness.server._ws import frame_too_large, parse_timeout
from openenv_harness.spec import EnvError, ErrorCode


def _registry(**kw):
    args = {"max_sessions": 2, "idle_timeout_s": 0.2, "config": None, "executor": make_executor(2)}
    args.update(kw)
    return SessionRegistry(ClosingEcho, **args)


def test_capacity_and_close(closing_echo):
    async def main():
        reg = _registry()
        a = await reg.create()
        await reg.create()
        with pytest.raises(EnvError) as info:
            await reg.create()
        assert info.value.code == ErrorCode.CAPACITY and "max_sessions=2" in info.value.message
        reg.close(a.id).result(timeout=5)
        assert reg.get(a.id) is None and len(reg) == 1
        await reg.create()  # a slot was freed
        await reg.shutdown()
        assert len(reg) == 0 and len(ClosingEcho.closed) == 3

    asyncio.run(main())


def test_require_messages():
    reg = _registry()
    with pytest.raises(EnvError) as info:
        reg.require(None)
    assert info.value.code == ErrorCode.NOT_RESET and "/reset" in info.value.message
    with pytest.raises(EnvError) as info:
        reg.require("nope")
    assert info.value.code == ErrorCode.SESSION_NOT_FOUND and "/reset" in info.value.message


def test_reaper_closes_idle_sessions_only(closing_echo):
    async def main():
        reg = _registry(max_sessions=10)
        idle = await reg.create()
        active = await reg.create()
        await active.reset()
        reg.start_reaper()
        for _ in range(6):  # keep `active` busy-ish while `idle` ages
            await asyncio.sleep(0.06)
            active.touch()
        assert reg.get(idle.id) is None and idle.closed
        assert reg.get(active.id) is active
        assert reg.reaped == 1
        await reg.shutdown()

    asyncio.run(main())


def test_reaper_calls_transport_closer():
    async def main():
        reg = _registry()
        s = await reg.create()
        reasons = []

        async def closer(reason):
            reasons.append(reason)

        s.closer = closer
        await asyncio.sleep(0.25)
        assert await reg.reap_once() == 1
        assert reasons and "idle" in reasons[0]

    asyncio.run(main())


def test_reap_interval_is_proportional():
    assert reap_interval(0.2) == pytest.approx(0.05)
    assert reap_interval(300) == 30.0
    assert reap_interval(0.01) == 0.02


def test_wire_helpers():
    assert loads(dumps({"a": [1, 2.5, None]})) == {"a": [1, 2.5, None]}
    assert loads(dumps({"r": math.nan}))["r"] is None  # never invalid JSON
    assert loads(dumps({"s": {1, 2}}))["s"] in ([1, 2], [2, 1])
    with pytest.raises(ValueError):
        loads("{nope")
    assert parse_timeout(None) is None and parse_timeout(2) == 2.0
    for bad in (0, -1, "3", True, [1]):
        with pytest.raises(EnvError):
            parse_timeout(bad)
    assert frame_too_large("é" * 600, 1000) is True  # 1200 bytes in UTF-8
    assert frame_too_large("a" * 1000, 1000) is False
    assert frame_too_large(b"x" * 1001, 1000) is True
    assert http_status(EnvError(ErrorCode.CAPACITY, "")) == 503
    assert http_status(EnvError("SOMETHING_ELSE", "")) == 400


def test_resolve_env_kinds():
    cls, factory = resolve_env("echo", {"max_steps": 3})
    assert cls is EchoEnvironment and factory().max_steps == 3
    cls, factory = resolve_env(EchoEnvironment)
    assert cls is EchoEnvironment
    cls, factory = resolve_env(lambda: EchoEnvironment(max_steps=9))
    assert cls is EchoEnvironment and factory().max_steps == 9
    with pytest.raises(ValueError, match="unknown environment"):
        resolve_env("no-such-env")
    with pytest.raises(ValueError, match="bad env_kwargs"):
        resolve_env(EchoEnvironment, {"max_stepz": 3})
    with pytest.raises(TypeError):
        resolve_env(lambda: 42)
    with pytest.raises(TypeError):
        resolve_env(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        create_app(EchoEnvironment, max_sessions=0)


def test_bound_socket_disables_nagle():
    # asyncio sets TCP_NODELAY on accepted sockets only when proto is TCP; without it small HTTP responses
    # stall ~40 ms on delayed ACKs
    import socket

    from openenv_harness.server import bind_socket, url_of

    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert url_of(sock).startswith("http://127.0.0.1:")
    finally:
        sock.close()

"""ServerLimits, the JSON depth check, error frames that always encode, the lifetime reaper, the weight bound."""

from __future__ import annotations

import asyncio
import json

import pytest
from server_envs import ClosingEcho

from openenv_harness.server import ServerLimits, SessionRegistry, make_executor
from openenv_harness.server._wire import MAX_JSON_DEPTH, check_depth, error_frame
from openenv_harness.spec import ConfigHolder, EnvError, ErrorCode
from openenv_harness.spec._config import MAX_WEIGHT


def test_limits_defaults_and_validation() -> None:
    limits = ServerLimits().resolved(max_sessions=100)
    assert limits.max_connections == 228 and limits.header_timeout_s == 10.0
    assert ServerLimits(max_connections=5).resolved(100).max_connections == 5
    for bad in ({"max_connections": 0}, {"header_timeout_s": 0}, {"body_timeout_s": float("nan")}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            ServerLimits(**bad)  # type: ignore[arg-type]


def test_check_depth_allows_the_limit_and_refuses_beyond() -> None:
    ok = json.dumps({"a": [[[1]]]})
    check_depth(ok, json.loads(ok))
    wide = json.dumps([{"x": [1]} for _ in range(500)])  # many brackets, shallow: the walk says fine
    check_depth(wide, json.loads(wide))
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    check_depth(at_limit, json.loads(at_limit))
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(EnvError) as info:
        check_depth(deep.encode(), json.loads(deep))
    assert info.value.code == ErrorCode.VALIDATION_ERROR and info.value.details == {"max_depth": 64}


def test_error_frame_drops_what_cannot_be_encoded() -> None:
    deep: object = 1
    for _ in range(300):
        deep = [deep]
    frame = json.loads(error_frame(EnvError(ErrorCode.VALIDATION_ERROR, "too deep"), deep))
    assert frame == {"type": "error", "data": {"code": "VALIDATION_ERROR", "message": "too deep"}}


def test_lifetime_reaps_active_sessions_but_never_a_busy_one() -> None:
    async def main() -> None:
        reg = SessionRegistry(
            ClosingEcho,
            max_sessions=4,
            idle_timeout_s=0,
            config=None,
            executor=make_executor(2),
            max_lifetime_s=0.05,
        )
        young, old = await reg.create(), await reg.create()
        old.created -= 1.0
        old._busy = 1  # a call in flight: it waits for the next look
        assert await reg.reap_once() == 0
        old._busy = 0
        assert await reg.reap_once() == 1 and reg.get(old.id) is None and reg.get(young.id) is young
        await reg.shutdown()

    asyncio.run(main())


def test_config_refuses_weights_beyond_the_bound() -> None:
    from envs.echo import EchoConfig

    holder = ConfigHolder(EchoConfig)
    holder.update({"weights": {"length": MAX_WEIGHT}})
    for bad in (1.79e308, MAX_WEIGHT * 2, 10**400, False, "2"):
        with pytest.raises(EnvError) as info:
            holder.update({"weights": {"length": bad}})
        assert info.value.code == ErrorCode.CONFIG_INVALID and info.value.details["field"] == "weights.length"


def test_check_integers_names_the_first_wide_field() -> None:
    from openenv_harness.server._wire import INT_RANGE, check_integers

    low, high = INT_RANGE
    for fine in ({"a": [low, high]}, {"s": "9" * 40}, {"f": 1e300}, [1.5, -2]):
        check_integers(json.dumps(fine))
        check_integers(json.dumps(fine).encode())
    for bad, field in (({"a": [0, {"b": high + 1}]}, "a.1.b"), ([low - 1], "0"), (10**19 * 2, "")):
        with pytest.raises(EnvError) as info:
            check_integers(json.dumps(bad))
        assert info.value.code == ErrorCode.VALIDATION_ERROR and info.value.details["field"] == field

import asyncio
import threading
import time

import pytest
from server_envs import ClosingEcho, SyncEcho

from envs.echo import EchoEnvironment
from openenv_harness.server import Session, make_executor
from openenv_harness.spec import ConfigHolder, EnvError, ErrorCode


def run(coro):
    return asyncio.run(coro)


async def _expect(code, coro):
    with pytest.raises(EnvError) as info:
        await coro
    assert info.value.code == code, info.value
    return info.value


@pytest.mark.parametrize("env_cls", [EchoEnvironment, SyncEcho])
def test_reset_step_state_and_done(env_cls):
    async def main():
        s = Session(env_cls(max_steps=2))
        first = await s.reset({"seed": 7})
        assert first["done"] is False and first["reward"] is None
        assert first["observation"]["greeting"]
        assert first["metadata"]["config_version"] == 0
        out = await s.step({"message": "abc"})
        assert out["observation"]["message"] == "abc"
        assert out["metadata"]["reward_components"] == {"length": 3.0}
        state = await s.state()
        assert state["step_count"] == 1 and state["seed"] == 7
        out = await s.step({"message": "x"})
        assert out["done"] is True
        await _expect(ErrorCode.EPISODE_DONE, s.step({"message": "again"}))
        again = await s.reset({"seed": 7})
        assert again["observation"] == first["observation"]
        s.close()

    run(main())


def test_same_seed_same_first_observation_across_sessions():
    async def main():
        firsts = [await Session(EchoEnvironment()).reset({"seed": 11}) for _ in range(3)]
        assert all(f["observation"] == firsts[0]["observation"] for f in firsts)
        others = {
            (await Session(EchoEnvironment()).reset({"seed": s}))["observation"]["greeting"]
            for s in range(20)
        }
        assert len(others) > 1  # the seed changes something visible

    run(main())


def test_step_before_reset_is_not_reset():
    async def main():
        s = Session(EchoEnvironment())
        err = await _expect(ErrorCode.NOT_RESET, s.step({"message": "hi"}))
        assert "reset" in err.message
        # state is answered before the first reset, as OpenEnv does
        assert (await s.state())["episode_id"] is None

    run(main())


def test_validation_names_the_field_and_session_keeps_working():
    async def main():
        s = Session(EchoEnvironment())
        await s.reset()
        err = await _expect(ErrorCode.VALIDATION_ERROR, s.step({"mesage": "typo"}))
        assert "action.message" in err.message
        assert any(e["field"] == "action.mesage" for e in err.details["errors"])
        err = await _expect(ErrorCode.VALIDATION_ERROR, s.step({"message": 3}))
        assert "action.message" in err.message
        await _expect(ErrorCode.VALIDATION_ERROR, s.step(["not", "an", "object"]))
        # OpenEnv's typed actions always carry metadata: dropped when the action type has no such field
        out = await s.step({"message": "ok", "metadata": {}})
        assert out["observation"]["message"] == "ok"

    run(main())


def test_reset_argument_validation():
    async def main():
        s = Session(EchoEnvironment())
        err = await _expect(ErrorCode.VALIDATION_ERROR, s.reset({"seed": "abc"}))
        assert "reset.seed" in err.message
        await _expect(ErrorCode.VALIDATION_ERROR, s.reset({"seed": True}))
        await _expect(ErrorCode.VALIDATION_ERROR, s.reset({"episode_id": 5}))
        await _expect(ErrorCode.VALIDATION_ERROR, s.reset([1, 2]))
        # echo takes **task and refuses it itself, with its own clear error
        err = await _expect(ErrorCode.VALIDATION_ERROR, s.reset({"split": "train"}))
        assert "split" in err.message
        assert (await s.reset({"seed": 1, "episode_id": "ep-1"}))["done"] is False
        assert (await s.state())["episode_id"] == "ep-1"

    run(main())


@pytest.mark.parametrize("env_cls", [EchoEnvironment, SyncEcho])
def test_crash_is_env_error_and_session_survives(env_cls):
    async def main():
        s = Session(env_cls())
        await s.reset()
        err = await _expect(ErrorCode.ENV_ERROR, s.step({"message": "__crash__"}))
        assert "echo was asked to crash" in err.message and "RuntimeError" in err.message
        await s.reset()
        assert (await s.step({"message": "fine"}))["observation"]["message"] == "fine"

    run(main())


def test_async_timeout_poisons_episode_until_reset():
    async def main():
        s = Session(EchoEnvironment())
        await s.reset()
        t0 = time.monotonic()
        err = await _expect(ErrorCode.TIMEOUT, s.step({"message": "sleep:5"}, timeout_s=0.1))
        assert time.monotonic() - t0 < 2
        assert "timeout_s=0.1" in err.message
        err = await _expect(ErrorCode.NOT_RESET, s.step({"message": "x"}))
        assert "timed out" in err.message
        await s.reset()
        assert (await s.step({"message": "x"}))["observation"]["message"] == "x"

    run(main())


def test_sync_timeout_replaces_the_stuck_instance(closing_echo):
    class SlowSync(ClosingEcho):
        reset_async = None
        step_async = None

    pool = make_executor(2)

    async def main():
        s = Session(SlowSync(), executor=pool, factory=SlowSync)
        await s.reset()
        first_env = s.env
        t0 = time.monotonic()
        await _expect(ErrorCode.TIMEOUT, s.step({"message": "sleep:2"}, timeout_s=0.1))
        assert time.monotonic() - t0 < 1.5  # answered at 0.1 s, not when the 2 s call returned
        await s.reset()  # the old instance is still sleeping in its thread: a fresh one takes over
        assert s.env is not first_env
        assert (await s.step({"message": "y"}))["observation"]["message"] == "y"
        # the abandoned instance is closed once its call returns
        deadline = time.monotonic() + 5
        while id(first_env) not in ClosingEcho.closed and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert id(first_env) in ClosingEcho.closed

    run(main())
    pool.shutdown(wait=True)


def test_default_timeout_applies_when_none_given():
    async def main():
        s = Session(EchoEnvironment(), default_timeout_s=0.1)
        await s.reset()
        await _expect(ErrorCode.TIMEOUT, s.step({"message": "sleep:2"}))

    run(main())


def test_config_applies_at_next_reset_only():
    async def main():
        holder = ConfigHolder(EchoEnvironment.config_type)
        s = Session(EchoEnvironment(max_steps=10), config=holder)
        await s.reset()
        before = await s.step({"message": "abcd"})
        assert before["reward"] == pytest.approx(0.4)
        holder.update({"weights": {"length": 1.0}})
        mid = await s.step({"message": "abcd"})  # same episode: old weights, old version
        assert mid["reward"] == pytest.approx(0.4) and mid["metadata"]["config_version"] == 0
        first = await s.reset()
        assert first["metadata"]["config_version"] == 1
        after = await s.step({"message": "abcd"})
        assert after["reward"] == pytest.approx(4.0) and after["metadata"]["reward_weights"] == {
            "length": 1.0
        }

    run(main())


def test_close_is_idempotent_and_closes_env(closing_echo):
    async def main():
        s = Session(closing_echo())
        await s.reset()
        fut = s.close()
        fut.result(timeout=5)
        assert s.close() is None
        assert ClosingEcho.closed == [id(s.env)]
        await _expect(ErrorCode.SESSION_NOT_FOUND, s.step({"message": "x"}))

    run(main())


def test_sync_env_does_not_run_on_the_loop_thread():
    seen = []

    class Where(SyncEcho):
        def step(self, action, timeout_s=None):
            seen.append(threading.current_thread().name)
            return super().step(action, timeout_s)

    async def main():
        s = Session(Where())
        await s.reset()
        await s.step({"message": "x"})

    run(main())
    assert seen and seen[0].startswith("openenv-env")


def test_close_during_a_step_waits_for_it(closing_echo):
    class SlowAsync(ClosingEcho):
        pass

    async def main():
        s = Session(SlowAsync())
        await s.reset()
        task = asyncio.create_task(s.step({"message": "sleep:0.2"}))
        await asyncio.sleep(0.05)
        fut = s.close()
        assert ClosingEcho.closed == []  # not closed under its own call
        out = await task
        assert out["observation"]["message"] == "sleep:0.2"
        await asyncio.wrap_future(fut)
        assert ClosingEcho.closed == [id(s.env)]

    run(main())


def test_reset_timeout_message_mentions_the_timeout():
    class SlowReset(EchoEnvironment):
        async def reset_async(self, seed=None, episode_id=None, **task):
            if seed == 1:
                await asyncio.sleep(2)
            return self.reset(seed=seed, episode_id=episode_id, **task)

    async def main():
        s = Session(SlowReset())
        await _expect(ErrorCode.TIMEOUT, s.reset({"seed": 1}, timeout_s=0.1))
        err = await _expect(ErrorCode.NOT_RESET, s.step({"message": "x"}))
        assert "reset timed out" in err.message
        await s.reset({"seed": 2})
        assert (await s.step({"message": "x"}))["observation"]["message"] == "x"

    run(main())


def test_fast_wire_matches_the_spec():
    from openenv_harness.server._envcall import to_wire
    from openenv_harness.spec import GenericObservation, observation_to_wire

    env = EchoEnvironment()
    samples = [
        env.reset(seed=3),
        env.step(env.action_type.model_validate({"message": "hi"})),
        GenericObservation(done=True, reward=1.5, metadata={"a": [1, {"b": None}]}, extra_field={"x": 1}),
    ]
    for obs in samples:
        assert to_wire(obs) == observation_to_wire(obs)

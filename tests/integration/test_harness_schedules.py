"""Schedules reach every env server over POST /config, observations report them, TensorBoard records them."""

import asyncio

from omegaconf import OmegaConf

from openenv_harness.client import ControlAPI
from openenv_harness.config import compose_config
from openenv_harness.harness.records import RunLogger, read_scalars
from openenv_harness.harness.schedules import make_schedules
from openenv_harness.harness.train import TrainContext
from openenv_harness.rollout import EnvRuntime, adapter_for


def test_scheduled_values_reach_every_server_and_observations(tmp_path):
    cfg = compose_config(
        [
            "env=echo",
            "runtime=local",
            "runtime.num_servers=2",
            "runtime.sessions=4",
            "+schedule.targets={weights.length:{kind:linear,start:1.0,end:0.0,steps:4}}",
        ]
    )
    schedules = make_schedules(OmegaConf.to_container(cfg.schedule.targets))
    logger = RunLogger(tmp_path)
    with EnvRuntime(cfg.runtime, "echo", {"max_steps": 1}) as rt:
        assert len(rt.urls) == 2
        ctx = TrainContext(cfg, rt, adapter_for("echo"), logger, schedules, tmp_path)
        seen_versions = []
        for step in range(5):
            ctx.apply_schedules(step)
            expected = max(0.0, 1.0 - step / 4)
            for url in rt.urls:  # every server holds the scheduled value
                api = ControlAPI(url)
                snap = api.get_config()
                api.close()
                assert snap["config"]["weights"]["length"] == expected
                seen_versions.append(snap["config_version"])

            async def episode(client, seed=step):
                await client.reset(seed=seed)
                return await client.step({"message": "abcd"})

            # Sessions spread round-robin over both servers: every one sees the new weight.
            async def all_sessions():
                return await asyncio.gather(*(rt.with_session(episode) for _ in range(4)))

            for obs in rt.run(all_sessions()):
                assert obs.metadata["reward_weights"]["length"] == expected
                assert obs.metadata["config_version"] == step + 1
                assert obs.reward == expected * 4
    logger.close()
    assert seen_versions == [v for v in range(1, 6) for _ in range(2)]
    scalars = read_scalars(tmp_path / "tb")
    assert [v for _, v in scalars["schedule/weights.length"]] == [1.0, 0.75, 0.5, 0.25, 0.0]
    assert [v for _, v in scalars["config/version"]] == [1, 2, 3, 4, 5]

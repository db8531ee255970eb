"""Gymnasium adapter: any environment as a ``gymnasium.Env`` with text spaces (needs the ``gym`` extra).

Importing this package registers every installed environment with Gymnasium::

    import gymnasium
    import openenv_harness.gym  # noqa: F401  (or: gymnasium.make("openenv_harness.gym:openenv_harness/Arith-v0"))

    env = gymnasium.make("openenv_harness/Arith-v0")
    obs, info = env.reset(seed=0)          # obs: JSON text of the observation fields
    obs, reward, terminated, truncated, info = env.step("12")

A served environment works the same way: ``OpenEnvGym(client_for("coding", url))``.
"""

from ._env import CHARSET, OpenEnvGym
from ._register import NAMESPACE, gym_id, register_all

GYM_IDS = register_all()
"""The Gymnasium ids registered at import."""

__all__ = ["CHARSET", "GYM_IDS", "NAMESPACE", "OpenEnvGym", "gym_id", "register_all"]

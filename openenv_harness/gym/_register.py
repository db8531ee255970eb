"""Gymnasium ids for every registered openenv_harness environment: ``openenv_harness/<Name>-v0``."""

from __future__ import annotations

import gymnasium

from ..spec import registered

NAMESPACE = "openenv_harness"
ENTRY_POINT = "openenv_harness.gym._env:OpenEnvGym"


def gym_id(env_id: str) -> str:
    """``coding`` -> ``openenv_harness/Coding-v0`` (``my_env`` -> ``openenv_harness/MyEnv-v0``)."""
    name = "".join(part.capitalize() for part in env_id.replace("-", "_").split("_"))
    return f"{NAMESPACE}/{name}-v0"


def register_all() -> list[str]:
    """Register every environment id of ``openenv_harness.registered()`` with Gymnasium (idempotent).

    Ids registered later (e.g. by installing another package) are added by calling this again.

    Returns:
        The Gymnasium ids registered.
    """
    ids = []
    for env_id in registered():
        gid = gym_id(env_id)
        if gid not in gymnasium.registry:
            gymnasium.register(id=gid, entry_point=ENTRY_POINT, kwargs={"env": env_id})
        ids.append(gid)
    return ids

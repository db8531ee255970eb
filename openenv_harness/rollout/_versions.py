"""``env.version``: a PEP 440 range the env must satisfy, checked before a run starts anything.

The version is the env class's ``version`` for envs this process starts (local, in-process, docker images
built from this checkout), and the ``/metadata`` version every remote server reports. A version outside
the range — or no version at all — refuses the run with a message naming each server and what it serves.
"""

from __future__ import annotations

from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version


def class_version(env_id: str) -> str | None:
    """The ``version`` of the env class ``env_id`` is registered as (None for an env not registered here)."""
    from ._foreign import is_registered

    if not is_registered(env_id):
        return None
    from ..spec import spec

    version = getattr(spec(env_id).load(), "version", None)
    return str(version) if version is not None else None


def runtime_version(runtime: Any) -> str | None:
    """The version of the env a started :class:`~openenv_harness.rollout.EnvRuntime` serves.

    Remote servers: the ``/metadata`` versions they reported (several distinct ones joined with ``,``);
    servers this process started: the env class's version.
    """
    servers = list(getattr(runtime, "servers", None) or [])
    if servers:
        found = sorted({str(s.version) for s in servers if s.version})
        return ",".join(found) or None
    if getattr(runtime, "remote", False):
        return None
    return class_version(str(runtime.env_id))


def served_versions(cfg: Any) -> dict[str, str | None]:
    """Where the env runs -> the version it reports (remote URLs, else ``"local"`` for the env class)."""
    from ._foreign import probe_server

    if str(cfg.runtime.provider) == "remote" and cfg.runtime.get("urls"):
        return {str(u): probe_server(str(u), cfg.runtime.get("token")).version for u in cfg.runtime.urls}
    return {"local": class_version(str(cfg.env.id))}


def check_env_version(cfg: Any) -> dict[str, str | None]:
    """Refuse a run whose env does not satisfy ``env.version`` (no-op when it is unset).

    Returns:
        The versions found (empty when ``env.version`` is unset).

    Raises:
        ValueError: an invalid range, or an env outside it (naming ``env.version``, each server and version).
    """
    wanted = cfg.env.get("version")
    if not wanted:
        return {}
    try:
        allowed = SpecifierSet(str(wanted))
    except InvalidSpecifier:
        raise ValueError(f"env.version={wanted!r} is not a version range such as '>=0.1,<0.2'") from None
    found = served_versions(cfg)
    bad = {}
    for where, version in found.items():
        try:
            ok = version is not None and Version(version) in allowed
        except InvalidVersion:
            ok = False
        if not ok:
            bad[where] = version
    if bad:
        detail = ", ".join(f"{where} serves {v or 'no version'}" for where, v in bad.items())
        raise ValueError(f"env {cfg.env.id!r} is outside env.version={wanted!r}: {detail}; refusing to start")
    return found

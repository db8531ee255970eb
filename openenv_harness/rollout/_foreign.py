"""Environments this process does not know: servers at a URL (``env.url``), probed before a run uses them.

A run can target any OpenEnv-compatible server by configuration alone: ``env.url=URL`` (or
``runtime=remote runtime.urls=[...]`` with an ``env.id`` that is not registered here). Such an env is
*foreign*: clients are untyped (built from the server's ``/schema``), the generic adapter drives it, and what
the harness would otherwise read from the env's class it asks the server instead:

* ``GET /metadata`` — name and version (recorded in run records and bundle manifests), and whether the
  server is one of ours (then ``/config`` and request ids are served, see
  :class:`~openenv_harness.client.ServerProtocol`);
* capacity — ``max_sessions`` when the server advertises it; OpenEnv apps do not (and default to one
  session), so the runtime also learns it by opening sessions until the server answers ``CAPACITY``.

Seeds are checked on the wire, in one session, by :func:`seed_behaviour`: OpenEnv creates a fresh env per
session, so two sessions of an env that serves questions from an iterator agree on the first question even
though the env ignores seeds; the same seed twice in one session tells them apart.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

SEEDS_HONOURED = "honoured"
SEEDS_IGNORED = "ignored"
SEEDS_NOT_REPRODUCIBLE = "not_reproducible"


def is_registered(env_id: str | None) -> bool:
    """Whether ``env_id`` is an environment registered in this process (entry points included)."""
    if not env_id:
        return False
    from ..spec import spec

    try:
        spec(env_id)
    except KeyError:
        return False
    return True


def slug(name: str) -> str:
    """A run-dir- and id-safe form of a server's name (``ColumnEnvironment`` stays, spaces become ``_``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "remote"


@dataclass(frozen=True)
class ServerInfo:
    """What a running env server says about itself.

    Attributes:
        url: Base URL.
        name: ``/metadata`` name (None when the server has no ``/metadata``).
        version: ``/metadata`` version.
        ours: The server is an openenv_harness server.
        config: ``GET/POST /config`` are served.
        max_sessions: Advertised session cap (None: not advertised).
        supports_seed: ``/metadata`` ``supports_seed`` when declared.
    """

    url: str
    name: str | None = None
    version: str | None = None
    ours: bool = False
    config: bool = False
    max_sessions: int | None = None
    supports_seed: bool | None = None

    def identity(self) -> dict[str, Any]:
        """The record of this server in run records and bundle manifests."""
        return asdict(self)


def probe_server(url: str, token: str | None = None) -> ServerInfo:
    """Ask a server its ``/metadata`` (and ``/health`` for an advertised cap); never raises for a missing route."""
    from ..client import ControlAPI, ServerProtocol
    from ..spec import EnvError

    api = ControlAPI(url, token=token)
    try:
        try:
            meta = api.metadata()
        except EnvError:
            meta = {}
        proto = ServerProtocol.from_metadata(meta)
        cap = meta.get("max_sessions")
        if cap is None:
            try:
                cap = api.health().get("max_sessions")
            except EnvError:
                cap = None
        seed = meta.get("supports_seed")
        return ServerInfo(
            url=url,
            name=str(meta["name"]) if meta.get("name") else None,
            version=str(meta["version"]) if meta.get("version") else None,
            ours=proto.ours,
            config=proto.config,
            max_sessions=int(cap) if isinstance(cap, int) and cap > 0 else None,
            supports_seed=seed if isinstance(seed, bool) else None,
        )
    finally:
        api.close()


def foreign_id(env_id: str | None, info: ServerInfo) -> str:
    """The id a foreign env runs under: the configured id when it is not a registered one, else the server's name."""
    if env_id and not is_registered(env_id):
        return env_id
    return slug(info.name or "remote")


async def seed_behaviour(
    client: Any, seed: int, reset_kwargs: dict[str, Any], declared: bool | None = None
) -> str:
    """Whether a server honours seeds, from up to four resets in one session (see the module docstring).

    ``seed`` twice must give the same first observation (else ``not_reproducible``); ``seed + 1`` and
    ``seed + 2`` both giving that same observation means the seed is ``ignored`` — unless the server
    declares ``supports_seed`` (``declared``): an env may show the same first observation for every seed
    (e.g. a fixed greeting) and still let the seed drive the episode.
    """
    from ._types import obs_fields

    async def first(s: int) -> dict[str, Any]:
        return obs_fields(await client.reset(seed=s, **reset_kwargs))

    a = await first(seed)
    b = await first(seed + 1)
    c = await first(seed)
    if a != c:
        return SEEDS_NOT_REPRODUCIBLE
    if not declared and a == b and a == await first(seed + 2):
        return SEEDS_IGNORED
    return SEEDS_HONOURED


def action_schema_of(env_id: str, urls: list[str], token: str | None = None) -> dict[str, Any]:
    """The action JSON schema of ``env_id``: from its class when registered here, else ``GET /schema``.

    Raises:
        ValueError: a foreign env without a server URL (naming ``env.url``).
    """
    if is_registered(env_id):
        from ..spec import spec

        return dict(spec(env_id).load().action_type.model_json_schema())
    if not urls:
        raise ValueError(
            f"environment {env_id!r} is not registered here: give its server with env.url=URL "
            "(or runtime=remote runtime.urls=[URL])"
        )
    from ..client import ControlAPI

    api = ControlAPI(urls[0], token=token)
    try:
        return dict(api.schema().get("action") or {})
    finally:
        api.close()


def apply_env_url(cfg: Any) -> ServerInfo | None:
    """Point a composed config at ``env.url`` (see :class:`~openenv_harness.config.EnvConfig`), in place.

    ``runtime.provider`` becomes ``remote`` with ``runtime.urls=[env.url]``; ``env.id`` becomes the server's
    registered id when it is one of ours, else the foreign env's id (:func:`foreign_id`), and the env's
    constructor arguments are dropped (the server was built by someone else). Returns what the server said
    about itself, or None when ``env.url`` is unset.
    """
    url = cfg.env.get("url")
    if not url:
        return None
    info = probe_server(str(url), cfg.runtime.get("token"))
    cfg.runtime.provider = "remote"
    cfg.runtime.urls = [str(url)]
    if info.ours and info.name and is_registered(info.name):
        cfg.env.id = info.name
    else:
        from omegaconf import OmegaConf

        configured = None if OmegaConf.is_missing(cfg.env, "id") else str(cfg.env.id)
        cfg.env.id = foreign_id(configured, info)
        cfg.env.kwargs = {}
    return info

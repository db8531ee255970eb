"""``mode=serve``: one env server on ``server.host:server.port`` until SIGINT/SIGTERM.

The same server as ``python -m openenv_harness.server``, configured through Hydra: the env from ``env``
(with ``env.kwargs``), the session cap, idle reaper and orchestrator token from ``server``, and the rubric's
overrides applied to the reward config before the first session. Prints ``LISTENING http://HOST:PORT`` once
it accepts connections (``server.port=0`` picks a free port).
"""

from __future__ import annotations

import os
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ..rubric import config_update


def run_serve(cfg: DictConfig) -> int:
    """Serve ``cfg.env`` until interrupted; returns 0 after a clean shutdown."""
    from ..config import check_env_kwargs
    from ..server import create_app, serve

    env_kwargs: dict[str, Any] = dict(OmegaConf.to_container(cfg.env.kwargs, resolve=True) or {})  # type: ignore[arg-type]
    check_env_kwargs(str(cfg.env.id), env_kwargs)  # a bad value is one 'error: env.kwargs.<name>' line
    token = cfg.server.token or os.environ.get("OPENENV_HARNESS_TOKEN") or None
    app = create_app(
        cfg.env.id,
        max_sessions=int(cfg.server.max_sessions),
        idle_timeout_s=float(cfg.server.idle_timeout_s),
        orchestrator_token=token,
        env_kwargs=env_kwargs,
    )
    initial = config_update(cfg.rubric)
    if initial:
        holder = getattr(app.state, "config", None)
        if holder is None:
            raise ValueError(f"rubric overrides given, but env {cfg.env.id!r} has no reward config")
        holder.update(initial)

    def announce(url: str) -> None:
        print(f"LISTENING {url}", flush=True)

    serve(app, str(cfg.server.host), int(cfg.server.port), on_listening=announce)
    return 0

"""Hydra callback that keeps ``hydra/launcher=ray_local`` on loopback.

``conf/hydra/launcher/ray_local.yaml`` starts a throwaway single-machine Ray instance (``address: local``) for a
sweep. Ray 2.x binds such an instance to the machine's network address, not to 127.0.0.1: ``ray.init``
rewrites a ``_node_ip_address`` of ``127.0.0.1`` into that address (``resolve_ip_for_localhost``), and the
address is only loopback when Ray's cluster mode is off, which its ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER``
variable controls (read once, when ``ray`` is first imported). The launcher plugin imports Ray only when the
sweep starts, so this callback sets the variable at ``on_multirun_start``, before that import: the GCS, raylet
and workers then listen on 127.0.0.1 only and nothing else can join. Launchers that join a cluster
(``ray_cluster``: ``address: auto``) are left alone.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger(__name__)

RAY_CLUSTER_VAR = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
"""Ray's switch between cluster mode (the node's network address) and a loopback-only node (``0``)."""


def is_local_ray_launcher(config: DictConfig) -> bool:
    """Whether ``hydra.launcher`` is the Ray launcher starting its own instance (``ray.init.address=local``)."""
    launcher = config.get("hydra", {}).get("launcher")
    if launcher is None or not str(launcher.get("_target_", "")).endswith(".RayLauncher"):
        return False
    init = (launcher.get("ray") or {}).get("init") or {}
    return init.get("address") == "local"


class RayLocalLoopback(Callback):
    """Hydra callback (``hydra.callbacks.ray_loopback``): a ``ray_local`` sweep's Ray binds to 127.0.0.1."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Turn Ray's cluster mode off for this process (and the Ray processes it starts) before Ray loads."""
        if not is_local_ray_launcher(config):
            return
        if "ray" in sys.modules and os.environ.get(RAY_CLUSTER_VAR) != "0":
            log.warning(
                "ray was imported before the sweep started: its instance may bind to the network address; "
                "set %s=0 in the environment to keep it on 127.0.0.1",
                RAY_CLUSTER_VAR,
            )
        os.environ[RAY_CLUSTER_VAR] = "0"

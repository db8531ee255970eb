import os
import sys

import pytest
from omegaconf import OmegaConf

from openenv_harness.harness.launch_hooks import RAY_CLUSTER_VAR, RayLocalLoopback, is_local_ray_launcher

RAY = "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher"


def _cfg(target, address):
    return OmegaConf.create(
        {"hydra": {"launcher": {"_target_": target, "ray": {"init": {"address": address}}}}}
    )


@pytest.mark.parametrize(
    ("target", "address", "local"),
    [
        (RAY, "local", True),
        (RAY, "auto", False),  # joins a cluster: its nodes' addresses are the cluster's business
        (RAY, None, False),
        ("hydra._internal.core_plugins.basic_launcher.BasicLauncher", "local", False),
    ],
)
def test_only_a_local_ray_launcher_is_pinned_to_loopback(monkeypatch, target, address, local):
    monkeypatch.delenv(RAY_CLUSTER_VAR, raising=False)
    cfg = _cfg(target, address)
    assert is_local_ray_launcher(cfg) is local
    RayLocalLoopback().on_multirun_start(cfg)
    assert (os.environ.get(RAY_CLUSTER_VAR) == "0") is local


def test_no_launcher_config_is_not_ray():
    assert not is_local_ray_launcher(OmegaConf.create({"x": 1}))


def test_warns_when_ray_was_already_imported(monkeypatch, caplog):
    monkeypatch.delenv(RAY_CLUSTER_VAR, raising=False)
    monkeypatch.setitem(sys.modules, "ray", object())
    RayLocalLoopback().on_multirun_start(_cfg(RAY, "local"))
    assert RAY_CLUSTER_VAR in caplog.text

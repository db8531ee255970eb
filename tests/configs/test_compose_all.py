"""Compose every option of every config group (and every experiment) against the schemas."""

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from openenv_harness.config import GROUP_SCHEMAS, compose_config
from openenv_harness.config._compose import CONF_DIR

GROUPS = sorted(p.name for p in CONF_DIR.iterdir() if p.is_dir() and p.name != "hydra")
OPTIONS = [
    (group, f.stem)
    for group in GROUPS
    for f in sorted((CONF_DIR / group).glob("*.yaml"))
    if group != "experiment"
]
EXPERIMENTS = sorted(f.stem for f in (CONF_DIR / "experiment").glob("*.yaml"))


def test_every_group_has_a_schema():
    assert set(GROUPS) <= set(GROUP_SCHEMAS), set(GROUPS) - set(GROUP_SCHEMAS)


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_option_composes(group: str, option: str):
    overrides = [f"{group}={option}"]
    if group == "env" and not (CONF_DIR / "schedule" / f"{option}.yaml").exists():
        overrides.append("schedule=none")  # schedule defaults to the env's own; not every env ships one
    cfg = compose_config(overrides)
    node = cfg[group]
    # Every key of the YAML is in the typed node, with the YAML's value.
    raw = OmegaConf.load(CONF_DIR / group / f"{option}.yaml")
    for key in raw:
        if key == "defaults":
            continue
        assert key in node
    OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_composes(name: str):
    cfg = compose_config([f"experiment={name}"])
    assert cfg.experiment.name == name
    OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)


def test_cluster_launcher_configs_extend_their_plugins():
    # The plugins (submitit, Ray) are not installed here; each file extends the plugin's own config, whose
    # schema checks the fields once the plugin is installed.
    plugin_of = {"slurm.yaml": "submitit_slurm", "ray_cluster.yaml": "ray", "ray_local.yaml": "ray"}
    files = sorted(Path(CONF_DIR, "hydra", "launcher").glob("*.yaml"))
    assert {f.name for f in files} == set(plugin_of)
    for f in files:
        cfg = OmegaConf.load(f)
        assert list(cfg.defaults) == [plugin_of[f.name]], f

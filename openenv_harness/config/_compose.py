"""Compose the harness config without running a job (tests, notebooks, other tools)."""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from .._layout import data_root
from ._store import register_configs

CONF_DIR = data_root() / "conf"
"""The shipped ``conf/`` tree: the checkout's, or the copy inside an installed wheel (``_data/conf``)."""


def compose_config(overrides: list[str] | None = None, config_dir: str | Path | None = None) -> DictConfig:
    """Compose ``config.yaml`` with overrides, exactly as the command line would (minus the job).

    Args:
        overrides: Hydra overrides such as ``["env=echo", "learner.max_steps=2"]``.
        config_dir: Another config tree (default: the project's ``conf/``).

    Returns:
        The composed, type-checked config (with the ``hydra`` node, so ``${hydra:...}`` resolves).

    Raises:
        hydra.errors.ConfigCompositionException: naming the bad key or value.
    """
    register_configs()
    with initialize_config_dir(config_dir=str(Path(config_dir or CONF_DIR).resolve()), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides or []), return_hydra_config=False)

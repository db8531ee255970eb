"""Command line: ``python -m openenv_harness [mode=train|serve|validate|eval|verify|new_env] [group=option ...]``.

A thin ``@hydra.main`` around :func:`run`, which dispatches on ``mode`` to pure functions that take the
composed config. Schemas are registered before Hydra composes, so every override is type-checked and a bad
one fails before anything starts, naming the key. Mistakes found after composition but before anything starts
(:class:`~openenv_harness.config.ConfigError`: a token variable that is not set, env kwargs or reward weights
the env does not have; :class:`~openenv_harness.evals.EvalError`: verify/eval usage) end the job with one line
``error: ...`` on stderr and exit code 1, not a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import hydra
from omegaconf import DictConfig

from .config import ConfigError, apply_secrets, register_configs
from .config._compose import CONF_DIR

register_configs()


def run(cfg: DictConfig) -> Any:
    """Run the mode the config selects.

    Args:
        cfg: The composed config (root schema :class:`openenv_harness.config.Config`).

    Returns:
        What the mode returns (a run record for ``train``, an exit code for ``validate``...).

    Raises:
        SystemExit: ``error: <one line naming the key>`` for a config or usage mistake.
    """
    mode = str(cfg.mode.value if hasattr(cfg.mode, "value") else cfg.mode)
    try:
        apply_secrets(cfg)  # tokens from token_env/token_file into <group>.token, in memory only
        return _dispatch(cfg, mode)
    except ConfigError as exc:
        raise SystemExit(f"error: {exc}") from None
    except Exception as exc:
        from .evals import EvalError  # imported here: only eval/verify need evals on the way in

        if isinstance(exc, EvalError):
            raise SystemExit(f"error: {exc}") from None
        raise


def _dispatch(cfg: DictConfig, mode: str) -> Any:
    """Run ``mode`` (see :func:`run`)."""
    if mode in ("train", "eval") and not cfg.eval.get("bundle"):
        from .config._launch import apply_launch

        # taskset.ref: env consistency, trust, secrets checked first; AutoEnv; runtime from the manifest
        apply_launch(cfg)
    if mode in ("train", "eval") and cfg.env.get("url"):
        from .rollout._foreign import apply_env_url

        apply_env_url(cfg)  # env.url=URL: remote runtime, and a foreign env's id from its /metadata
    if mode in ("train", "eval"):
        from .rollout._versions import check_env_version

        check_env_version(cfg)  # env.version=RANGE: refuse an env outside it before anything starts
    if mode == "train":
        from .harness.train import run_train

        return run_train(cfg)
    if mode == "serve":
        from .harness.serve import run_serve

        return run_serve(cfg)
    if mode == "validate":
        from .tasks import main_validate  # type: ignore[attr-defined]

        if not cfg.taskset.ref:
            raise SystemExit("mode=validate needs a taskset: pass taskset.ref=REF or taskset=NAME")
        return main_validate(cfg.taskset.ref)
    if mode == "new_env":
        from .scaffold import ScaffoldError, new_env

        if not cfg.get("name"):
            raise ConfigError("name: mode=new_env needs name=NAME (the new env's id), optionally dir=PATH")
        try:
            made = new_env(str(cfg.name), cfg.get("dir"))
        except ScaffoldError as exc:
            raise ConfigError(str(exc)) from None
        print(made.next_steps(), flush=True)
        return 0
    if mode in ("eval", "verify"):
        from .evals import run_eval, run_verify  # type: ignore[attr-defined]
        from .harness.interrupts import graceful_shutdown

        # Ctrl-C / SIGTERM unwind so the env servers are stopped; the bundle resumes on the next run.
        with graceful_shutdown():
            return run_eval(cfg) if mode == "eval" else run_verify(cfg)
    raise SystemExit(f"unknown mode {mode!r}")  # unreachable: the Mode enum rejects it at composition


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> Any:
    """Hydra entry point (see the module docstring)."""
    result = run(cfg)
    if isinstance(result, int) and not isinstance(result, bool) and result != 0:
        sys.exit(result)
    return result

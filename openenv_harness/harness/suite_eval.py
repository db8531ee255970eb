"""In-training suite evals: train mode runs ``eval.suite`` as training goes and logs it to TensorBoard.

When ``eval.suite`` names evals (e.g. ``eval=cpu_suite``), the suite runs before the first learner step, after
every ``eval.every_n_steps`` steps (0: never in between) and after the last step: the same points as the
held-out eval. Each run is a complete eval bundle (:mod:`openenv_harness.evals`) under
``<run dir>/evals/step<NNNNN>/``, so per-task outcomes and transcripts can be read back later; its policy is
the model as it is at that step, identified by a hash of the weights in memory. Each eval's success rate,
reward mean, error rate and component means go to TensorBoard as ``eval/<eval name>/...``.

Such a bundle records a model that was never saved, so re-running it (``mode=eval eval.bundle=...``) runs the
configured policy instead; to ship evals next to a trained model, save it (``learner.save_model=true``) and run
``mode=eval`` on the saved folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig

if TYPE_CHECKING:
    from .train import TrainContext

PolicyFactory = Callable[[DictConfig, Any], Any]
"""``(policy config with the eval's sampling, env adapter) -> Policy`` (see :func:`evals.execute`)."""


def suite_configured(cfg: DictConfig) -> bool:
    """True when ``eval.suite`` names at least one eval (train mode then runs it)."""
    suite = cfg.eval.get("suite")
    return bool(suite) and bool(suite.get("evals"))


def check_suite(cfg: DictConfig) -> None:
    """Refuse a bad ``eval.suite`` before anything starts: unknown fields, unknown envs, missing tasksets.

    Raises:
        ValueError, KeyError or the taskset loader's error, each naming the eval and what is wrong.
    """
    from ..evals import suite_from_cfg, tasks_for
    from ..spec import spec

    for ev in suite_from_cfg(cfg).evals:
        spec(ev.env)
        tasks_for(ev)


def due_during_training(cfg: DictConfig, step: int) -> bool:
    """Whether the suite runs after learner step ``step`` (0 < step < max_steps; the ends always run)."""
    every = int(cfg.eval.every_n_steps)
    return every > 0 and 0 < step < int(cfg.learner.max_steps) and step % every == 0


def run_suite_eval(
    ctx: TrainContext, step: int, policy_factory: PolicyFactory | None = None
) -> dict[str, Any]:
    """Run the suite at ``step`` into ``<run dir>/evals/step<NNNNN>`` and log every eval's results.

    Args:
        ctx: The training context (config, run dir, logger, metrics).
        step: Learner steps completed so far (the TensorBoard step).
        policy_factory: Builds the policy under evaluation (train mode wraps the model being trained);
            None builds the configured policy.

    Returns:
        ``{eval name: {n_episodes, success_rate, success_stderr, reward_mean, error_rate}}``, also stored in
        ``ctx.metrics["eval_suite"][str(step)]`` (and so in ``run.json``).
    """
    from ..evals import execute

    bundle = Path(ctx.run_dir) / "evals" / f"step{step:05d}"
    _, results, manifest = execute(ctx.cfg, bundle, policy_factory)
    scalars: dict[str, float] = {}
    summary: dict[str, Any] = {}
    for name, agg in results["evals"].items():
        for key in ("success_rate", "reward_mean", "error_rate"):
            if agg.get(key) is not None:
                scalars[f"eval/{name}/{key}"] = float(agg[key])
        for comp, value in agg["components"].items():
            scalars[f"eval/{name}/component/{comp}"] = float(value)
        summary[name] = {
            k: agg.get(k)
            for k in ("n_episodes", "success_rate", "success_stderr", "reward_mean", "error_rate")
        }
    ctx.logger.scalars(scalars, step)
    ctx.metrics.setdefault("eval_suite", {})[str(step)] = {
        "bundle": str(bundle),
        "model_hash": manifest["policy"].get("model_hash"),
        "evals": summary,
    }
    return summary


__all__ = ["PolicyFactory", "check_suite", "due_during_training", "run_suite_eval", "suite_configured"]

"""``mode=eval`` and ``mode=verify``: run a suite into a bundle, resume it, re-run a bundle and compare.

Flow of one eval run:

1. The suite comes from ``eval.suite`` (a ``conf/eval/<suite>.yaml``), or is the one eval of the configured
   env/taskset/rubric; ``eval.bundle=DIR`` instead re-runs the suite and config stored in a bundle (command
   line overrides still apply, which is how ``verify`` notices a changed model or weight).
2. Identity = hash of the suite, the policy identity and every eval's task ids. The bundle directory
   (``eval.out``; default ``outputs/evals/<suite>-<identity>``) remembers it, so re-running the same command
   after Ctrl-C or SIGKILL resumes: finished episodes are kept, missing ones run, none is counted twice.
3. Per eval: env servers from the configured provider, the eval's reward config pushed, a determinism probe
   (two resets with the same task and seed must give the same first observation, else the bundle records
   ``reproducible: false``), then episodes in waves over the session pool, each written durably as it ends;
   an episode that errored is run once more first (:mod:`openenv_harness.evals._retry`).
4. ``results.json``, ``manifest.json``, ``suite.yaml``, ``config.yaml`` and ``report.html`` are written from
   the episode log sorted by key, so concurrency never changes them.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from ..config import check_env_kwargs, check_reward_update, check_run_config, redacted_yaml
from ..rubric import RUBRIC_KWARG
from ._manifest import build_manifest, environment_identity, hash_tree, judges_of, weights_hash
from ._metrics import aggregate
from ._records import EpisodeLog
from ._report import write_report
from ._retry import with_retry
from ._suite import EvalSpec, Suite, stable_hash
from ._tasks import EvalTask, TaskList, tasks_for
from ._verify import compare, format_table

log = logging.getLogger(__name__)


class EvalError(RuntimeError):
    """An eval could not run (bad suite, a bundle dir holding another eval, ...)."""


def suite_from_cfg(cfg: DictConfig) -> Suite:
    """The suite a composed config asks for (``eval.suite``, or the one eval of env/taskset/rubric)."""
    ev = cfg.eval
    raw = OmegaConf.to_container(ev.suite, resolve=True) if ev.get("suite") else None
    if raw:
        suite = Suite.from_dict(raw)  # type: ignore[arg-type]
    else:
        from openenv_harness.rubric import config_update

        taskset = cfg.get("taskset")
        if taskset is not None and not taskset.get("ref"):
            taskset = None
        spec = EvalSpec(
            name=str(cfg.env.id),
            env=str(cfg.env.id),
            env_kwargs=_env_kwargs(cfg),
            taskset=str(taskset.ref) if taskset else None,
            split=str(taskset.get("eval_split") or "test") if taskset else "test",
            n_tasks=int(ev.get("num_tasks") or 10),
            reward_config=config_update(cfg.rubric),
            n_samples=int(ev.get("num_samples") or 1),
            seed=int(ev.get("seed") or 0),
            max_turns=int(cfg.env.max_turns),
            sampling={"temperature": float(ev.temperature), "max_new_tokens": int(cfg.policy.max_new_tokens)},
            success_component=_declared_success(str(cfg.env.id)),
            reset_kwargs={**_plain(cfg.env.get("reset_kwargs")), **_plain(ev.get("reset_kwargs"))},
        )
        suite = Suite(name=str(ev.get("name") or "default"), evals=[spec])
        if suite.name == "none":
            suite.name = "default"
    limit = ev.get("limit")
    if limit is not None:
        for spec in suite.evals:
            spec.limit = int(limit) if spec.limit is None else min(int(limit), spec.limit)
    image = not raw and str((cfg.runtime.get("target") or {}).get("kind")) == "docker"
    for spec in suite.evals:
        # ``taskset: null`` in conf/env/*.yaml must not hide the taskset from the env (it would run its own
        # tasks while the bundle names the taskset); an image's own command takes no constructor arguments.
        if spec.taskset and spec.env_kwargs.get("taskset") is None and not image:
            spec.env_kwargs["taskset"] = spec.taskset
    return suite


def _env_kwargs(cfg: DictConfig) -> dict[str, Any]:
    """``env.kwargs`` plus, for a ``rubric`` with a ``_target_`` (``rubric=judge``), the rubric tree."""
    from openenv_harness.rubric import RUBRIC_KWARG, rubric_tree

    kwargs: dict[str, Any] = dict(OmegaConf.to_container(cfg.env.kwargs, resolve=True) or {})  # type: ignore[arg-type]
    tree = rubric_tree(cfg.rubric)
    if tree is not None:
        kwargs[RUBRIC_KWARG] = tree
    return kwargs


def _plain(node: Any) -> dict[str, Any]:
    """A config mapping (or None) as a plain dict."""
    if isinstance(node, DictConfig):
        return dict(OmegaConf.to_container(node, resolve=True))  # type: ignore[arg-type]
    return dict(node or {})


def _declared_success(env_id: str) -> str | None:
    """The success component the env's adapter declares (None: success is reward above the threshold)."""
    from openenv_harness.rollout import declared_adapter

    adapter = declared_adapter(env_id)
    return adapter.success_component if adapter is not None else None


def policy_identity(policy: Any) -> dict[str, Any]:
    """What identifies a policy in a bundle: its description plus a hash of its weights when local."""
    ident = dict(policy.describe())
    path = getattr(policy, "model_path", None)
    if path and Path(path).is_dir():
        ident["model_hash"] = hash_tree(Path(path), ("*.safetensors", "*.json", "*.model", "*.txt"))
    elif hasattr(getattr(policy, "model", None), "state_dict"):  # a model in memory (train mode's evals)
        ident["model_hash"] = weights_hash(policy.model)
    adapter = getattr(policy, "adapter", None)
    if ident.get("name") == "scripted" and adapter is not None:
        # The baseline's code (the env's adapter module) identifies a scripted policy.
        source = inspect.getsourcefile(getattr(adapter, "baseline", None) or type(adapter))
        if source:
            ident["source_hash"] = hash_tree(Path(source).parent, (Path(source).name,))
    ident["id"] = ident.get("model") or ident.get("name")
    return ident


def _records_from(
    episodes: list[Any], spec: EvalSpec, batch: list[tuple[EvalTask, int]], dt: float
) -> list[dict]:
    out = []
    for ep, (task, sample) in zip(episodes, batch, strict=True):
        turns = [dataclasses.asdict(t) for t in ep.turns]
        # An action the env refuses as invalid is the policy's mistake, i.e. a wrong answer; only
        # infrastructure failures (env crash, timeout, lost connection, capacity, no reward) count as errors.
        invalid, error = ep.invalid_action, ep.error
        out.append(
            {
                "eval": spec.name,
                "task_id": task.task_id,
                "sample": sample,
                "seed": task.seed,
                "env_task_id": ep.task_id,
                "transcript": turns,
                "reward": None if error or ep.reward is None else float(ep.reward),
                "reward_components": dict(ep.components),
                "done": bool(ep.done),
                "error": error,
                "invalid_action": invalid,
                "timings": {"batch_wall_s": round(dt, 4)},
            }
        )
    return out


def _run_one(
    cfg: DictConfig,
    spec: EvalSpec,
    tasks: TaskList,
    log_: EpisodeLog,
    policy: Any,
    adapter: Any,
    runtime_cfg: DictConfig | None = None,
) -> tuple[str, str | None, list[dict[str, Any]]]:
    """Run the eval's missing episodes.

    Returns:
        How the env treats seeds (``honoured``/``ignored``/``not_reproducible``, probed in one session:
        the same seed twice and its neighbours), the env image digest when run in Docker, and what remote
        servers said about themselves (``/metadata`` name, version, ``/config``).
    """
    from openenv_harness.rollout import EnvRuntime, Task, run_episodes

    todo = [
        (t, j) for t in tasks.tasks for j in range(spec.n_samples) if not log_.has((spec.name, t.task_id, j))
    ]
    with EnvRuntime(runtime_cfg or cfg.runtime, spec.env, spec.env_kwargs, cfg.server) as runtime:
        if spec.reward_config:
            runtime.push_config(spec.reward_config)
        first = tasks.tasks[0] if tasks.tasks else None
        seeds = runtime.check_seeds(first.seed, dict(first.reset_kwargs)) if first else "honoured"
        digest = getattr(runtime.provider, "image_digest", None)
        wave = max(1, runtime.size)

        def run(tasks: list[Task]) -> Any:
            return run_episodes(
                runtime,
                policy,
                adapter,
                tasks,
                system_prompt=cfg.policy.get("system_prompt"),
                max_turns=spec.max_turns,
                temperature=float(spec.sampling.get("temperature", 0.0)),
                phase="eval",
            )

        for start in range(0, len(todo), wave):
            batch = todo[start : start + wave]
            t0 = time.perf_counter()
            # An errored episode (e.g. its server died) runs once more before anything is written.
            episodes, first_errors = runtime.loop.run(
                with_retry(
                    run, [Task(t.seed, dict(t.reset_kwargs)) for t, _ in batch], what=f"eval {spec.name}"
                )
            )
            records = _records_from(episodes, spec, batch, time.perf_counter() - t0)
            for rec, first_error in zip(records, first_errors, strict=True):
                if first_error is not None:
                    rec["retried"] = first_error
                log_.append(rec)
            log.info("eval %s: %d/%d episodes", spec.name, start + len(batch), len(todo))
    servers = [s.identity() for s in runtime.servers]
    if not runtime.remote:  # servers this run started: their loopback ports change from run to run
        servers = [{k: v for k, v in s.items() if k != "url"} for s in servers]
    return seeds, digest, servers


def _check_spec(spec: EvalSpec, cfg: DictConfig | None) -> None:
    """Check one eval's env kwargs and reward config against its env (``cfg``: the eval came from it)."""
    if cfg is not None:  # the one eval of env/rubric/schedule: name their keys
        if not (cfg.env.get("url") or str(cfg.runtime.get("provider")) == "remote"):
            check_run_config(cfg)
        return
    where = f"eval.suite.{spec.name}"
    check_env_kwargs(spec.env, spec.env_kwargs, f"{where}.env_kwargs")
    if RUBRIC_KWARG not in spec.env_kwargs:  # a custom rubric tree defines its own components
        check_reward_update(spec.env, spec.reward_config, lambda path: f"{where}.reward_config.{path}")


def _policy_cfg(cfg: DictConfig, spec: EvalSpec) -> DictConfig:
    """The policy config with the eval's sampling parameters (temperature, top_p, max_new_tokens) applied."""
    pc = OmegaConf.create(OmegaConf.to_container(cfg.policy, resolve=True))
    assert isinstance(pc, DictConfig)
    for key in ("temperature", "top_p", "max_new_tokens", "seed"):
        if key in spec.sampling:
            pc[key] = spec.sampling[key]
    return pc


def _foreign_identity(
    env_id: str, servers: list[dict[str, Any]], runtime_cfg: DictConfig | None = None
) -> dict[str, Any]:
    """A foreign env's identity: what its server's ``/metadata`` says (name, version); no source to hash.

    An env this process started without importing it (a taskset's package venv or image) is also named by
    what its target recorded (the env class's version, the package's version).
    """
    first = servers[0] if servers else {}
    target = dict((runtime_cfg.get("target") if runtime_cfg is not None else None) or {})
    return {
        "id": env_id,
        "foreign": True,
        "name": first.get("name") or target.get("env_class") or target.get("name"),
        "version": first.get("version") or target.get("env_version") or target.get("version"),
    }


def target_record(runtime_cfg: DictConfig) -> dict[str, Any] | None:
    """The runtime target an eval ran (``runtime.target`` without the action schema), or None."""
    target = dict(_plain(runtime_cfg.get("target")))
    target.pop("action_schema", None)
    return target or None


def _spec_runtime(cfg: DictConfig, spec: EvalSpec) -> DictConfig:
    """The runtime of one eval of a suite: its taskset's target (checked before anything starts)."""
    if not spec.taskset:
        return cfg.runtime
    from ..config._launch import check_taskset, spec_runtime

    _, target = check_taskset(
        spec.taskset,
        spec.env,
        trust_remote_code=bool(cfg.taskset.get("trust_remote_code")),
        space_url=cfg.taskset.get("space_url"),
        where=f"eval.suite.{spec.name}: ",
    )
    if target.kind == "docker":  # the image's own command serves: no constructor arguments reach it
        spec.env_kwargs.pop("taskset", None)
        if spec.env_kwargs:
            raise EvalError(
                f"eval.suite.{spec.name}.env_kwargs: taskset {spec.taskset} runs image {target.image}, whose own "
                "command serves; constructor arguments cannot reach it"
            )
    return spec_runtime(cfg.runtime, target)


def _action_schema(env_id: str, runtime_cfg: DictConfig) -> dict[str, Any]:
    """The env's action schema: its class, what its launch recorded (package venv, image), or its server."""
    from openenv_harness.rollout import action_schema_of, is_registered

    recorded = (runtime_cfg.get("target") or {}).get("action_schema")
    if not is_registered(env_id) and recorded:
        return dict(_plain(recorded))
    return action_schema_of(env_id, list(runtime_cfg.get("urls") or []), runtime_cfg.get("token"))


def _bundle_dir(cfg: DictConfig, suite: Suite, identity: str) -> Path:
    out = cfg.eval.get("out")
    if out:
        return Path(str(out))
    return Path("outputs") / "evals" / f"{suite.name}-{identity[:12]}"


def _check_identity(bundle: Path, identity: str, resume: bool) -> None:
    marker = bundle / "identity.json"
    if marker.exists():
        stored = json.loads(marker.read_text())["identity"]
        if stored != identity:
            raise EvalError(
                f"{bundle} holds a different eval (identity {stored[:12]}, this one is {identity[:12]}): "
                "choose another eval.out or remove the directory"
            )
        if not resume and (bundle / "episodes.jsonl").exists():
            raise EvalError(f"{bundle} already has episodes and eval.resume=false: remove it or resume")
    bundle.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"identity": identity}))


def execute(
    cfg: DictConfig,
    bundle: Path | None = None,
    policy_factory: Callable[[DictConfig, Any], Any] | None = None,
) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """Run (or resume) the suite ``cfg`` describes into a bundle.

    Args:
        cfg: The composed config.
        bundle: Output directory (default: ``eval.out`` or ``outputs/evals/<suite>-<identity>``).
        policy_factory: Builds the policy from ``(policy config with the eval's sampling, adapter)``;
            default :func:`~openenv_harness.rollout.make_policy`. Train mode passes one that wraps
            the model being trained.

    Returns:
        ``(bundle dir, results, manifest)``.
    """
    from openenv_harness.rollout import adapter_for, is_registered, make_policy, tools_of

    from ..config._launch import apply_launch

    make = policy_factory or make_policy

    from_cfg = not cfg.eval.get("suite")
    if from_cfg:  # the taskset's target, env consistency, trust and secrets, before anything starts
        apply_launch(cfg, explicit_env=True)
    suite = suite_from_cfg(cfg)
    if not suite.evals:
        raise EvalError("the suite has no evals: name one with eval=SUITE or configure env=...")
    for s in suite.evals:  # kwargs and reward weights the env does not have: refused before anything starts
        _check_spec(s, cfg if from_cfg else None)
    runtimes = {s.name: cfg.runtime if from_cfg else _spec_runtime(cfg, s) for s in suite.evals}
    plans = {spec.name: tasks_for(spec) for spec in suite.evals}
    adapters = {
        s.name: adapter_for(
            s.env,
            cfg.env.get("action_field") if s.env == cfg.env.id else None,
            _action_schema(s.env, runtimes[s.name]),
            tools=lambda s=s: tools_of(
                s.env, list(runtimes[s.name].get("urls") or []), runtimes[s.name].get("token")
            ),
        )
        for s in suite.evals
    }
    # The policy of the first eval identifies the run; evals with other sampling get their own instance.
    policy_cfgs = {s.name: _policy_cfg(cfg, s) for s in suite.evals}
    first = suite.evals[0]
    policy = make(policy_cfgs[first.name], adapters[first.name])
    current = (first.env, policy_cfgs[first.name])
    log_: EpisodeLog | None = None
    try:
        ident_policy = policy_identity(policy)
        suite_hash = stable_hash(suite.to_dict())
        identity = stable_hash(
            {
                "suite": suite_hash,
                "policy": ident_policy,
                "tasks": {k: [t.task_id for t in v.tasks] for k, v in plans.items()},
            }
        )
        bundle = bundle or _bundle_dir(cfg, suite, identity)
        _check_identity(bundle, identity, bool(cfg.eval.get("resume", True)))
        (bundle / "suite.yaml").write_text(yaml.safe_dump(suite.to_dict(), sort_keys=False))
        (bundle / "config.yaml").write_text(redacted_yaml(cfg))  # tokens written as ***
        log_ = EpisodeLog(bundle / "episodes.jsonl")
        seeds: dict[str, str] = {}
        digests: dict[str, str | None] = {}
        remotes: dict[str, list[dict[str, Any]]] = {}
        for spec in suite.evals:
            wanted = (spec.env, policy_cfgs[spec.name])
            if wanted != current:
                policy.close()
                policy = make(policy_cfgs[spec.name], adapters[spec.name])
                current = wanted
            seeds[spec.name], digests[spec.name], remotes[spec.name] = _run_one(
                cfg, spec, plans[spec.name], log_, policy, adapters[spec.name], runtimes[spec.name]
            )
    except KeyboardInterrupt:
        if log_ is not None:
            print(
                f"eval interrupted: {len(log_.read())} finished episodes are kept in {bundle}; run the same "
                "command again to resume",
                file=sys.stderr,
                flush=True,
            )
        raise
    finally:
        policy.close()
    records = log_.sorted_records()
    results: dict[str, Any] = {"suite": suite.name, "identity": identity, "evals": {}}
    for spec in suite.evals:
        agg = aggregate(
            [r for r in records if r["eval"] == spec.name],
            success_threshold=spec.success_threshold,
            success_component=spec.success_component,
            ks=spec.pass_k,
        )
        agg["reproducible"] = seeds[spec.name] == "honoured"
        agg["seeds"] = seeds[spec.name]
        results["evals"][spec.name] = agg
    manifest = build_manifest(
        suite_hash=suite_hash,
        policy={**ident_policy, "sampling": {s.name: s.sampling for s in suite.evals}},
        datasets={k: v.dataset for k, v in plans.items()},
        environments={
            s.name: {
                **(
                    environment_identity(s.env)
                    if is_registered(s.env)
                    else _foreign_identity(s.env, remotes[s.name], runtimes[s.name])
                ),
                "servers": remotes[s.name],
                "kwargs": s.env_kwargs,
                "reward_config": s.reward_config,
                "runtime": str(runtimes[s.name].provider),
                "target": target_record(runtimes[s.name]),
                "image_digest": digests[s.name],
            }
            for s in suite.evals
        },
        judges={s.name: judges_of(s.env, s.env_kwargs) for s in suite.evals if is_registered(s.env)},
    )
    manifest["reproducible"] = {name: value == "honoured" for name, value in seeds.items()}
    manifest["seeds"] = seeds
    (bundle / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True))
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    write_report(bundle, results, manifest)
    return bundle, results, manifest


def _bundle_cfg(cfg: DictConfig) -> DictConfig:
    """The config stored in ``eval.bundle``, with this command line's overrides applied on top."""
    bundle = Path(str(cfg.eval.bundle))
    if not (bundle / "config.yaml").exists():
        raise EvalError(f"{bundle} is not an eval bundle (no config.yaml)")
    stored = OmegaConf.load(bundle / "config.yaml")
    overrides: list[str] = []
    try:
        from hydra.core.hydra_config import HydraConfig

        overrides = list(HydraConfig.get().overrides.task)
    except ValueError:
        pass
    skip = ("mode=", "eval.bundle=", "eval.out=")
    dotlist = [
        o.lstrip("+~") for o in overrides if not o.startswith(skip) and "=" in o and not o.startswith("hydra")
    ]
    group_like = [
        o for o in dotlist if o.split("=", 1)[0] in ("policy", "env", "rubric", "runtime", "taskset")
    ]
    if group_like:
        raise EvalError(
            f"re-running a bundle takes field overrides (e.g. policy.path=DIR), not group choices: {group_like}"
        )
    merged = OmegaConf.merge(stored, OmegaConf.from_dotlist(dotlist))
    assert isinstance(merged, DictConfig)
    merged.mode = cfg.mode
    # The stored token is *** (never written): this command's own token spelling applies.
    for group in ("runtime", "server"):
        if group in merged and group in cfg:
            for key in ("token", "token_env", "token_file"):
                merged[group][key] = cfg[group].get(key)
    # Where to write is this command's choice, never the stored bundle's (that would resume into it).
    merged.eval.out = cfg.eval.get("out")
    merged.eval.bundle = None
    return merged


def run_eval(cfg: DictConfig) -> int:
    """``mode=eval``: run the suite (or the bundle in ``eval.bundle``) and write a bundle; exit code 0."""
    if cfg.eval.get("bundle"):
        cfg = _bundle_cfg(cfg)
    bundle, results, _ = execute(cfg)
    for name, r in results["evals"].items():
        print(
            f"eval {name}: success {r['success_rate']} ± {r['success_stderr']}, mean reward {r['reward_mean']}, "
            f"errors {r['error_rate']:.3f}, reproducible {r['reproducible']}"
        )
    print(f"bundle: {bundle}")
    return 0


def run_verify(cfg: DictConfig) -> int:
    """``mode=verify eval.bundle=DIR``: re-run the bundle and compare; 1 on drift beyond tolerance."""
    if not cfg.eval.get("bundle"):
        raise EvalError("mode=verify needs eval.bundle=DIR (a bundle written by mode=eval)")
    stored_dir = Path(str(cfg.eval.bundle))
    rerun_cfg = _bundle_cfg(cfg)
    stored_results = json.loads((stored_dir / "results.json").read_text())
    stored_manifest = json.loads((stored_dir / "manifest.json").read_text())
    with tempfile.TemporaryDirectory(prefix="verify-") as tmp:
        _, results, manifest = execute(rerun_cfg, Path(tmp) / "bundle")
    suite = Suite.from_dict(yaml.safe_load((stored_dir / "suite.yaml").read_text()))
    results.pop("identity", None)
    stored_results = {k: v for k, v in stored_results.items() if k != "identity"}
    diffs = compare(
        stored_results,
        results,
        stored_manifest,
        manifest,
        tolerances={e.name: e.tolerance for e in suite.evals},
    )
    print(format_table(diffs))
    for name, how in (stored_manifest.get("seeds") or {}).items():
        if how != "honoured":  # agreement proves nothing when the same seed is not the same task
            print(
                f"note: eval {name}: the env does not honour seeds ({how}); this bundle is not reproducible"
            )
    return 1 if diffs else 0

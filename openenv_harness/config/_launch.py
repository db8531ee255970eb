"""A taskset launches what its manifest declares: checked before anything starts, then the config follows it.

With ``taskset.ref`` set, :func:`apply_launch` reads the taskset's ``environment.yaml`` and, before any
server, venv, container or policy exists:

1. **env consistency** — an env chosen on the command line (``env=``, ``env.id=``, or an experiment) must be
   the env the manifest runs; otherwise one line names both (``env=coding contradicts taskset.ref=...``).
   ``env.kwargs.taskset`` naming another taskset is refused the same way (a ``taskset: null`` in
   ``conf/env/*.yaml`` no longer hides the taskset from the env: the ref is bound).
2. **trust, secrets, version** — :func:`openenv_harness.tasks.runtime_for`: ``trust_remote_code`` for a
   third-party package or an image not built here, every declared secret set, ``min_version``.
3. **AutoEnv** — with no env chosen (``taskset.ref=REF`` alone), the env group becomes the manifest's env
   (its ``conf/env/<id>.yaml`` when there is one, plus any ``env.*`` overrides of the command line), and the
   schedule that followed the default env is replaced by the new env's (or none).
4. **runtime** — the runtime follows the target: ``image`` -> ``docker`` running the image's own command
   with the manifest's cpus/memory/pids; a third-party ``package`` -> ``local`` servers from an isolated venv
   (built here, once per package hash); ``space_id`` -> ``remote`` at the Space's URL (or
   ``taskset.space_url``). The project's own package (the shipped envs) keeps the configured provider; with
   ``runtime=docker`` it gets the manifest's limits too. ``resources.timeout`` caps
   ``runtime.step_timeout_s``. Secret *names* go to the provider as ``env_from``.
5. ``runtime.target`` records what runs (kind, image/package/URL, limits, secret names, the taskset's
   content hash, and for an env this process does not import — a package venv or a foreign image — what the
   env says about itself: version, class, action schema). Run records and bundle manifests carry it.

It is idempotent: a config it already set up (a bundle's stored config, re-run by ``mode=verify``) passes the
same checks again and gets the same runtime.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ._secrets import ConfigError

log = logging.getLogger(__name__)

_ENV_KEYS = ("env", "env.id", "env.url")
"""Command-line keys that choose the env (other ``env.*`` overrides only adjust it)."""


def _default_env() -> str | None:
    """The env the primary config selects by default (``defaults: - env: NAME``)."""
    from ._compose import CONF_DIR

    raw = OmegaConf.load(CONF_DIR / "config.yaml")
    assert isinstance(raw, DictConfig)
    for item in raw.get("defaults") or []:
        if isinstance(item, Mapping) and "env" in item:
            return str(item["env"])
    return None


def _overrides() -> list[str] | None:
    try:
        from hydra.core.hydra_config import HydraConfig

        return list(HydraConfig.get().overrides.task)
    except ValueError:  # not inside a Hydra job
        return None


def env_explicit() -> bool:
    """Whether the running job chose its env (command line or an experiment) rather than taking the default.

    Outside a Hydra job (a config built in Python) the env counts as chosen.
    """
    overrides = _overrides()
    if overrides is None:
        return True
    if any(o.lstrip("+~").split("=", 1)[0] in _ENV_KEYS for o in overrides):
        return True
    from hydra.core.hydra_config import HydraConfig

    return str(HydraConfig.get().runtime.choices.get("env")) != _default_env()


def _group_file(group: str, name: str) -> DictConfig | None:
    from ._compose import CONF_DIR

    path = CONF_DIR / group / f"{name}.yaml"
    if not path.is_file():
        return None
    node = OmegaConf.load(path)
    assert isinstance(node, DictConfig)
    node.pop("defaults", None)
    return node


def _auto_env(cfg: DictConfig, env_id: str) -> None:
    """Replace the defaulted env (and the schedule that followed it) by ``env_id``'s own groups."""
    from ._schema import EnvConfig, ScheduleConfig

    overrides = _overrides() or []
    env = OmegaConf.structured(EnvConfig)
    own = _group_file("env", env_id)
    if own is not None:
        env = OmegaConf.merge(env, own)
    env.id = env_id
    dotted = [o.lstrip("+") for o in overrides if o.lstrip("+").startswith("env.")]
    if dotted:
        env = OmegaConf.merge(env, OmegaConf.from_dotlist([o.removeprefix("env.") for o in dotted]))
    cfg.env = env
    if not any(o.lstrip("+~").split("=", 1)[0].split(".")[0] == "schedule" for o in overrides):
        schedule = OmegaConf.structured(ScheduleConfig)
        own_schedule = _group_file("schedule", env_id)
        cfg.schedule = OmegaConf.merge(schedule, own_schedule) if own_schedule is not None else schedule
    log.info("taskset %s runs env %r (AutoEnv: no env= given)", cfg.taskset.ref, env_id)


def _plain(node: Any) -> dict[str, Any]:
    if isinstance(node, DictConfig):
        return dict(OmegaConf.to_container(node, resolve=True) or {})  # type: ignore[arg-type]
    return dict(node or {})


def check_taskset(
    ref: str,
    env_id: str | None,
    *,
    trust_remote_code: bool = False,
    space_url: str | None = None,
    where: str = "",
) -> tuple[Any, Any]:
    """Resolve ``ref``, check ``env_id`` against its manifest, then trust, secrets and version.

    Args:
        ref: The taskset reference.
        env_id: The env chosen for it (None: whatever the manifest runs).
        trust_remote_code: ``taskset.trust_remote_code``.
        space_url: ``taskset.space_url``.
        where: Prefix naming the config place (``"eval.suite.NAME: "``).

    Returns:
        ``(resolved taskset, RuntimeTarget)``.

    Raises:
        ConfigError: one line naming the keys and values involved.
    """
    from openenv_harness.tasks import TasksetError, resolve_shared, runtime_for
    from openenv_harness.tasks._runtime import target_env_id

    try:
        resolved = resolve_shared(ref)
    except (TasksetError, ValueError, KeyError) as exc:
        first = str(exc).strip().splitlines()
        raise ConfigError(f"{where}taskset.ref={ref}: {' '.join(first)}") from None
    wanted = target_env_id(resolved.entry)
    if env_id is not None and env_id != wanted:
        raise ConfigError(
            f"{where}env={env_id} contradicts taskset.ref={ref}: its manifest runs env {wanted!r} (drop env= to "
            "run what the taskset declares, or choose a taskset for that env)"
        )
    try:
        target = runtime_for(resolved.entry, trust_remote_code, space_url_override=space_url)
    except TasksetError as exc:
        raise ConfigError(f"{where}taskset.ref={ref}: {exc}") from None
    return resolved, target


def _describe_image(target: Any, options: dict[str, Any]) -> dict[str, Any]:
    """What a foreign image's server says about itself: start one container, read it, remove it."""
    from openenv_harness.client import ControlAPI
    from openenv_harness.runtime import make_provider

    provider = make_provider("docker", env=target.env_id, n_servers=1, **options)
    with provider:
        api = ControlAPI(provider.urls[0])
        try:
            schema = api.schema()
            try:
                meta = api.metadata()
            except Exception:  # an app without /metadata still serves
                meta = {}
        finally:
            api.close()
        digest = getattr(provider, "image_digest", None)
    return {
        "name": meta.get("name"),
        "version": meta.get("version"),
        "image_id": digest,
        "action_schema": dict(schema.get("action") or {}),
    }


def launch_runtime(runtime: DictConfig, target: Any, *, describe: bool = True) -> None:
    """Point a ``runtime`` config node at ``target`` (in place; see the module docstring, step 4)."""
    from openenv_harness.spec import spec
    from openenv_harness.tasks._runtime import docker_limits

    kind, kwargs = target.provider_kwargs()
    names = list(kwargs.pop("env_from", []) or [])
    info: dict[str, Any] = {}
    before = _plain(runtime.get("target"))
    if (
        before.get("image") == target.image
        and before.get("package") == target.package
        and ("action_schema" in before)
    ):
        describe = False  # set up before (mode=verify re-runs a bundle's config): keep what was found
        info = {k: v for k, v in before.items() if k not in target.record()}
    if target.kind == "package" and not target.third_party:  # our own env: the configured provider runs it
        options = _plain(runtime.options)
        if str(runtime.provider) == "docker":
            options = {**docker_limits(target.limits), **options}
        if names and str(runtime.provider) in ("local", "docker", "ray"):
            options["env_from"] = names
        runtime.options = options
    elif kind == "remote":
        runtime.provider = "remote"
        runtime.urls = list(kwargs["urls"])
        runtime.options = {}
    else:
        if str(runtime.provider) not in ("local", kind):
            log.warning(
                "taskset target %s: runtime.provider=%s replaced by %s", target.kind, runtime.provider, kind
            )
        runtime.provider = kind
        options = {k: v for k, v in kwargs.items() if k != "env"}
        if names:
            options["env_from"] = names
        runtime.options = options
        if describe and target.kind == "package":
            from openenv_harness.runtime._venv import PackageVenvError, package_venv

            try:
                venv = package_venv(str(target.package), target.env_id)
            except PackageVenvError as exc:
                raise ConfigError(f"taskset package {target.package}: {exc}") from None
            info = {**venv.record(), "action_schema": dict(venv.info.get("schemas", {}).get("action") or {})}
        elif describe and kind == "docker":
            try:
                spec(target.env_id)
                info = {}
            except KeyError:  # a foreign image: ask its server (once, before the run starts anything else)
                info = _describe_image(target, options)
    timeout = target.limits.get("timeout_s")
    if timeout is not None:
        runtime.step_timeout_s = min(float(runtime.step_timeout_s), float(timeout))
    runtime.target = {**target.record(), **info}


def apply_launch(cfg: DictConfig, explicit_env: bool | None = None, where: str = "") -> dict[str, Any] | None:
    """Check ``cfg``'s taskset against its env and point env/runtime at its target (in place).

    Args:
        cfg: A composed run config (or one env's config of a mixture).
        explicit_env: Whether the env was chosen (None: :func:`env_explicit`).
        where: Prefix of every message.

    Returns:
        The runtime target record (also ``cfg.runtime.target``), or None without a taskset or with
        ``env.url`` (a server the user points at is what runs).

    Raises:
        ConfigError: one line naming the offending keys (see the module docstring).
    """
    ts = cfg.get("taskset")
    ref = str(ts.ref) if ts is not None and ts.get("ref") else None
    if ref is None or cfg.env.get("url"):
        return None
    explicit = env_explicit() if explicit_env is None else explicit_env
    configured = None if OmegaConf.is_missing(cfg.env, "id") else str(cfg.env.id)
    resolved, target = check_taskset(
        ref,
        configured if explicit else None,
        trust_remote_code=bool(ts.get("trust_remote_code")),
        space_url=ts.get("space_url"),
        where=where,
    )
    if not explicit and configured != target.env_id:
        _auto_env(cfg, target.env_id)
    bound = (cfg.env.get("kwargs") or {}).get("taskset")
    if bound and str(bound) != ref:
        raise ConfigError(
            f"{where}env.kwargs.taskset={bound} contradicts taskset.ref={ref}: give the taskset once (taskset.ref)"
        )
    if target.kind == "docker":
        if not explicit:
            cfg.env.kwargs = {}
        elif _plain(cfg.env.get("kwargs")):
            raise ConfigError(
                f"{where}env.kwargs: taskset.ref={ref} runs image {target.image}, whose own command serves; "
                "constructor arguments cannot reach it (drop env.kwargs)"
            )
    launch_runtime(cfg.runtime, target)
    cfg.runtime.target = {
        **cfg.runtime.target,
        "taskset": {"ref": ref, "content_hash": resolved.content_hash},
    }
    return _plain(cfg.runtime.target)


def spec_runtime(runtime: DictConfig, target: Any) -> DictConfig:
    """A copy of ``runtime`` pointed at ``target`` (one eval of a suite with its own taskset)."""
    node = copy.deepcopy(runtime)
    launch_runtime(node, target)
    return node

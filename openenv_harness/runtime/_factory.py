"""``make_provider(kind, **kwargs)``: the provider named by the harness config's ``runtime.kind``."""

from __future__ import annotations

from typing import Any

from ._provider import Provider

KINDS = ("inprocess", "local", "docker", "remote", "ray")
"""Provider kinds :func:`make_provider` knows."""


def docker_provider_class() -> type[Provider]:
    """Import ``DockerProvider`` (needs the ``docker`` SDK) and make it count as a :class:`Provider`.

    It implements the same face; registering it keeps ``isinstance(p, Provider)`` true for every kind even
    where it does not inherit from the base class.
    """
    from ._docker import DockerProvider

    if not issubclass(DockerProvider, Provider):
        Provider.register(DockerProvider)
    return DockerProvider  # type: ignore[return-value]


def make_provider(kind: str, **kwargs: Any) -> Provider:
    """Build a provider (not started; use it as a context manager or call ``start``).

    ``env_vars`` (variables for the env servers, e.g. a taskset's secret values) is accepted by every kind:
    ``local`` passes them in each server process's environment; ``inprocess`` ignores them (the environment
    runs in this process and reads this process's environment, where :func:`~openenv_harness.tasks.read_secrets`
    found them); ``remote`` refuses a non-empty mapping (those servers run elsewhere: set the variables
    there); ``docker`` gets them only if its provider takes an ``env_vars`` argument.

    A taskset's runtime target (:meth:`openenv_harness.tasks.RuntimeTarget.provider_kwargs`) adds:
    ``env_from`` (secret *names*; their values are read from this process's environment here, for ``local``,
    ``docker`` and ``ray``, whose replicas get them as actor arguments), ``package`` (``local``: a third-party pip requirement, served from its own isolated
    venv, :func:`~openenv_harness.runtime._venv.package_venv`) and ``own_command`` (``docker``: the image's
    own CMD serves). An env this process does not have registered gets untyped clients.

    Args:
        kind: ``inprocess`` (``env``, ``**env_kwargs``), ``local`` (``env``, ``n_servers``, ``env_kwargs``,
            ``max_sessions``, ``idle_timeout_s``, ``token``, ``env_vars``...), ``docker`` (``env``,
            ``n_servers``, resource limits...), ``remote`` (``urls``, ``token``, ``env_id``) or ``ray`` (``env``,
            ``replicas``, ``address``, ``num_cpus``, ``memory``, ``resources``..., see
            :class:`~openenv_harness.runtime.RayProvider`).
        **kwargs: The chosen provider's constructor arguments.

    Raises:
        ValueError: unknown kind, arguments the provider does not take (the message names them), or
            ``env_vars`` for ``remote`` (names only, never values).
    """
    kind = kind.strip().lower().replace("-", "_")
    aliases = {"in_process": "inprocess", "process": "local", "local_process": "local", "urls": "remote"}
    kind = aliases.get(kind, kind)
    cls: Any
    env_vars = _with_env_from(kwargs.pop("env_vars", None), kwargs.pop("env_from", None), kind)
    package = kwargs.pop("package", None) if kind == "local" else None
    if kind == "inprocess":
        from ._inprocess import InProcessProvider

        env = kwargs.pop("env", None)
        env_kwargs = dict(kwargs.pop("env_kwargs", None) or {})
        if env is None:
            raise ValueError("make_provider('inprocess') needs env=<registered id or Environment class>")
        return InProcessProvider(env, **kwargs, **env_kwargs)
    if kind == "local":
        from ._local import LocalProcessProvider as cls

        kwargs["env_vars"] = env_vars
        if package:
            from ._venv import package_venv

            kwargs["python"] = str(package_venv(str(package), str(kwargs.get("env"))).python)
    elif kind == "remote":
        from ._remote import RemoteProvider as cls

        if env_vars:
            raise ValueError(
                f"make_provider('remote') cannot deliver env_vars ({', '.join(sorted(env_vars))}): remote servers "
                "are not started by this process; set those variables where the servers run"
            )
    elif kind == "docker":
        cls = docker_provider_class()
        if env_vars:
            kwargs["env_vars"] = env_vars  # refused below as a bad argument if DockerProvider takes none
    elif kind == "ray":
        from ._ray import RayProvider as cls  # imports Ray only when started

        kwargs["env_vars"] = env_vars
    else:
        raise ValueError(f"unknown provider kind {kind!r}; expected one of {', '.join(KINDS)}")
    try:
        provider = cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"bad arguments for provider {kind!r} ({cls.__name__}): {exc}") from None
    if kind in ("local", "docker") and not _registered(provider.env_id):
        provider.env_id = None  # its code is not imported here (a package venv, an image): untyped clients
    return provider  # type: ignore[no-any-return]


def _registered(env_id: str | None) -> bool:
    from ..spec import spec

    try:
        spec(str(env_id))
    except KeyError:
        return False
    return True


def _with_env_from(env_vars: Any, names: Any, kind: str) -> Any:
    """``env_vars`` plus the values of the variables ``names`` (read here; a missing one is refused)."""
    if not names or kind not in ("local", "docker", "ray"):
        return env_vars
    import os

    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        raise ValueError(
            f"env_from: variable(s) {', '.join(missing)} not set (names only; values never shown)"
        )
    return {**dict(env_vars or {}), **{n: os.environ[n] for n in names}}

"""Map a manifest's runtime target onto what a runtime provider needs; gate code execution and secrets.

* ``image`` -> ``kind="docker"``: the Docker provider runs the image **with its own command** (its
  ``CMD``/entrypoint: an OpenEnv-native image serves on port 8000, and so do this project's env images) and
  the ``resources`` as limits. An image names code the dataset chose, so it needs ``trust_remote_code=True``
  unless it is one of this project's own env images (``openenv-harness/...``).
* ``package`` -> ``kind="package"``: a pip requirement whose ``openenv_harness.envs`` entry point ``env`` is
  the environment, served by local server processes. ``openenv-harness`` itself (the shipped envs) is
  already running code and needs no opt-in; any other package needs ``trust_remote_code=True`` and is
  installed into an isolated virtual environment used only by its server processes
  (:mod:`openenv_harness.runtime._venv`), never into the orchestrator's interpreter.
* ``space_id`` -> ``kind="remote"``: ``https://{owner}-{name}.hf.space`` (or ``space_url`` when given: a
  Space run locally, e.g. from its image); without an override and with ``HF_HUB_OFFLINE=1`` it fails at
  once instead of hanging on a connection.

Secrets are names; their values come from environment variables and are checked before anything starts.
The values live only in a :class:`SecretValues` mapping whose ``repr`` shows names, and no record written by
this module contains them.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import Version

from ._manifest import EnvironmentEntry
from ._resolve import TasksetError, _hub_offline

log = logging.getLogger(__name__)

SELF_DISTRIBUTION = "openenv-harness"
_ENTRY_POINT_GROUP = "openenv_harness.envs"
OWN_IMAGE_PREFIX = "openenv-harness/"
"""Images of this project's own envs (built by ``openenv_harness.runtime._docker_build``)."""


class SecretValues(Mapping[str, str]):
    """Secret name -> value, read from the environment. ``repr``/``str`` show the names only."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"SecretValues(names={sorted(self._values)})"

    __str__ = __repr__


def read_secrets(names: list[str], environ: Mapping[str, str] | None = None) -> SecretValues:
    """Collect secret values from environment variables.

    Raises:
        TasksetError: naming every missing variable (names only), before anything is started.
    """
    env = os.environ if environ is None else environ
    missing = [n for n in names if not env.get(n)]
    if missing:
        raise TasksetError(
            f"missing secret(s) {', '.join(missing)}: set these environment variables before starting "
            "(values are read from the environment only and never written anywhere)"
        )
    return SecretValues({n: env[n] for n in names})


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def space_url(space_id: str) -> str:
    """``owner/name`` -> ``https://owner-name.hf.space`` (lowercase, ``_``/``.`` become ``-``)."""
    owner, name = space_id.split("/", 1)
    return f"https://{re.sub(r'[_.]', '-', owner.lower())}-{re.sub(r'[_.]', '-', name.lower())}.hf.space"


def _installed(req: Requirement) -> metadata.Distribution | None:
    try:
        dist = metadata.distribution(req.name)
    except metadata.PackageNotFoundError:
        return None
    if req.specifier and not req.specifier.contains(dist.version, prereleases=True):
        return None
    return dist


def is_own_image(image: str) -> bool:
    """Whether ``image`` is one of this project's env images (built from its own sources: trusted)."""
    return image.startswith(OWN_IMAGE_PREFIX)


@dataclass(frozen=True)
class RuntimeTarget:
    """What a runtime provider needs to run one environment.

    Attributes:
        kind: ``docker``, ``package`` or ``remote``.
        env_id: The environment id (manifest id, or the package's entry-point name).
        image: Container image (docker).
        package: pip requirement (package).
        url: Base URL (remote).
        limits: Provider limits: ``cpus``, ``nano_cpus``, ``mem_limit`` (bytes), ``pids_limit``, ``timeout_s``.
        secrets: Secret values for the environment's process/container environment (repr shows names).
        space_id: The Space (remote targets from ``space_id``).
    """

    kind: str
    env_id: str
    image: str | None = None
    package: str | None = None
    url: str | None = None
    limits: dict[str, Any] = field(default_factory=dict)
    secrets: SecretValues = field(default_factory=lambda: SecretValues({}), repr=True)
    space_id: str | None = None

    @property
    def third_party(self) -> bool:
        """A ``package`` target other than ``openenv-harness`` itself (runs in its own virtual environment)."""
        return (
            self.kind == "package" and _normalise(Requirement(self.package or "").name) != SELF_DISTRIBUTION
        )

    def provider_kwargs(self) -> tuple[str, dict[str, Any]]:
        """``(kind, kwargs)`` for :func:`openenv_harness.runtime.make_provider` (secret values excluded).

        ``docker`` gets the image, ``own_command`` (the image's own CMD/entrypoint serves) and the
        ``cpus``/``mem_limit``/``pids_limit`` limits; ``package`` runs the registered env in local server
        processes (``local``; a third-party package with ``package=REQUIREMENT``, which the factory installs
        into an isolated virtual environment); ``remote`` gets the URL. ``timeout_s`` is a per-step budget
        for the rollout client, so it stays in :attr:`limits`. Secret *names* go as ``env_from``: the
        provider reads their values from this process's environment when it is built.
        """
        names = sorted(self.secrets)
        if self.kind == "docker":
            kwargs: dict[str, Any] = {"env": self.env_id, "image": self.image, "own_command": True}
            kwargs.update(docker_limits(self.limits))
            if names:
                kwargs["env_from"] = names
            return "docker", kwargs
        if self.kind == "package":
            kwargs = {"env": self.env_id}
            if self.third_party:
                kwargs["package"] = self.package
            if names:
                kwargs["env_from"] = names
            return "local", kwargs
        return "remote", {"urls": [self.url], "env_id": self.env_id}

    def record(self) -> dict[str, Any]:
        """A JSON-able description for run records and bundles: secret names, never values."""
        return {
            "kind": self.kind,
            "env_id": self.env_id,
            "image": self.image,
            "package": self.package,
            "url": self.url,
            "space_id": self.space_id,
            "limits": dict(self.limits),
            "secrets": sorted(self.secrets),
        }


def docker_limits(limits: Mapping[str, Any]) -> dict[str, Any]:
    """The Docker provider's ``cpus``/``mem_limit``/``pids_limit`` arguments from a target's limits."""
    out: dict[str, Any] = {}
    if "cpus" in limits:
        out["cpus"] = limits["cpus"]
    if "mem_limit" in limits:
        out["mem_limit"] = f"{limits['mem_limit']}b"
    if "pids_limit" in limits:
        out["pids_limit"] = max(16, int(limits["pids_limit"]))  # the provider's floor: a server needs threads
    return out


def _limits(entry: EnvironmentEntry) -> dict[str, Any]:
    from ._manifest import parse_memory

    r = entry.openenv.resources
    out: dict[str, Any] = {}
    if r.cpus is not None:
        out["cpus"] = r.cpus
        out["nano_cpus"] = int(r.cpus * 1e9)
    if r.memory is not None:
        out["mem_limit"] = parse_memory(r.memory)
    if r.pids is not None:
        out["pids_limit"] = r.pids
    if r.timeout is not None:
        out["timeout_s"] = r.timeout
    return out


def _check_min_version(entry: EnvironmentEntry) -> None:
    from openenv_harness import __version__

    if Version(__version__) < Version(entry.openenv.min_version):
        raise TasksetError(
            f"environment {entry.id!r} needs openenv_harness >= {entry.openenv.min_version}; "
            f"this is {__version__}"
        )


def _untrusted(entry: EnvironmentEntry, what: str) -> TasksetError:
    return TasksetError(
        f"environment {entry.id!r} runs {what}: that executes code named by the dataset. Refusing because "
        "trust_remote_code is False; review it and pass trust_remote_code=True (taskset.trust_remote_code=true) "
        "to allow it."
    )


def package_env(entry: EnvironmentEntry, trust_remote_code: bool = False, install: bool = True) -> str:
    """Check a ``package`` target and return the environment id it registers.

    ``openenv-harness`` itself must provide the env here (its entry points are read in this process). A
    third-party package is only gated (``trust_remote_code``) and its requirement checked: it is never
    imported or installed here; the runtime installs it into an isolated virtual environment and checks
    its entry point there. ``install`` is accepted for compatibility and ignored.

    Raises:
        TasksetError: refusal without ``trust_remote_code`` for third-party packages, a bad requirement, or
            ``openenv-harness`` not providing the environment.
    """
    del install
    block = entry.openenv
    assert block.package is not None
    try:
        req = Requirement(block.package)
    except InvalidRequirement as exc:
        raise TasksetError(
            f"environment {entry.id!r}: package {block.package!r} is not a requirement: {exc}"
        ) from None
    env_id = block.env or entry.id
    if _normalise(req.name) != SELF_DISTRIBUTION:
        if not trust_remote_code:
            raise _untrusted(entry, f"package {block.package!r}")
        return env_id
    dist = _installed(req)
    if dist is None:
        raise TasksetError(f"environment {entry.id!r}: package {block.package!r} is not installed")
    names = {ep.name for ep in dist.entry_points if ep.group == _ENTRY_POINT_GROUP}
    if env_id not in names:
        raise TasksetError(
            f"environment {entry.id!r}: package {req.name!r} does not provide environment {env_id!r} "
            f"(its {_ENTRY_POINT_GROUP} entry points: {', '.join(sorted(names)) or 'none'})"
        )
    return env_id


def target_env_id(entry: EnvironmentEntry) -> str:
    """The environment id a manifest entry runs (a package's ``env`` entry point, else the manifest id)."""
    return entry.openenv.env or entry.id


def runtime_for(
    entry: EnvironmentEntry,
    trust_remote_code: bool = False,
    environ: Mapping[str, str] | None = None,
    install: bool = True,
    space_url_override: str | None = None,
) -> RuntimeTarget:
    """Turn a manifest entry into a :class:`RuntimeTarget` for the runtime providers.

    Checks run in this order and all before anything starts: version, secrets, trust, then the target
    itself. Nothing is installed, imported or started here.

    Args:
        entry: The manifest environment.
        trust_remote_code: Allow third-party ``package`` targets and images not built by this project.
        environ: Where secrets are read (default ``os.environ``).
        install: Ignored (kept for compatibility: third-party packages are installed by the runtime, into
            their own virtual environment).
        space_url_override: Where a ``space_id`` target is served (e.g. the Space's image run locally);
            default ``https://{owner}-{name}.hf.space``.

    Raises:
        TasksetError: with a message that says what to do.
    """
    _check_min_version(entry)
    block = entry.openenv
    secrets = read_secrets(block.secrets, environ)
    limits = _limits(entry)
    log.info("runtime for %s: %s target, secrets %s", entry.id, block.target, sorted(secrets) or "none")
    if block.image:
        if not trust_remote_code and not is_own_image(block.image):
            raise _untrusted(entry, f"image {block.image!r}")
        return RuntimeTarget("docker", entry.id, image=block.image, limits=limits, secrets=secrets)
    if block.package:
        env_id = package_env(entry, trust_remote_code, install)
        return RuntimeTarget("package", env_id, package=block.package, limits=limits, secrets=secrets)
    assert block.space_id is not None
    if space_url_override:
        url = space_url_override.rstrip("/")
    elif _hub_offline():
        raise TasksetError(
            f"environment {entry.id!r} runs on the Space {block.space_id!r}, which needs the network; "
            "HF_HUB_OFFLINE is set (unset it, give the Space's address with taskset.space_url=URL, or use a "
            "taskset with an image or package target)"
        )
    else:
        url = space_url(block.space_id)
    return RuntimeTarget("remote", entry.id, url=url, limits=limits, secrets=secrets, space_id=block.space_id)

"""Map a manifest's runtime target onto what a runtime provider needs; gate code execution and secrets.

* ``image`` -> ``kind="docker"``: the Docker provider runs the image with the ``resources`` as limits.
* ``package`` -> ``kind="package"``: a pip requirement whose ``openenv_harness.envs`` entry point ``env`` is
  the environment, served by a local process provider. ``openenv-harness`` itself (the shipped envs) is
  already running code and needs no opt-in; any other package is installed (if missing) and imported only
  with ``trust_remote_code=True``, because both run code the dataset named.
* ``space_id`` -> ``kind="remote"``: ``https://{owner}-{name}.hf.space``; with ``HF_HUB_OFFLINE=1`` it fails
  at once instead of hanging on a connection.

Secrets are names; their values come from environment variables and are checked before anything starts.
The values live only in a :class:`SecretValues` mapping whose ``repr`` shows names, and no record written by
this module contains them.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
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


def _install(requirement: str, timeout_s: float = 600.0) -> None:
    log.info("installing runtime package %s (trust_remote_code=True)", requirement)
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", requirement],
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or "").strip().splitlines()[-3:]
        raise TasksetError(f"pip install {requirement!r} failed: {' | '.join(tail)}") from None
    except subprocess.TimeoutExpired:
        raise TasksetError(f"pip install {requirement!r} did not finish within {timeout_s:.0f} s") from None


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
    """

    kind: str
    env_id: str
    image: str | None = None
    package: str | None = None
    url: str | None = None
    limits: dict[str, Any] = field(default_factory=dict)
    secrets: SecretValues = field(default_factory=lambda: SecretValues({}), repr=True)

    def provider_kwargs(self) -> tuple[str, dict[str, Any]]:
        """``(kind, kwargs)`` for :func:`openenv_harness.runtime.make_provider` (secrets excluded).

        ``docker`` gets the image and the ``cpus``/``mem_limit``/``pids_limit`` limits; ``package`` runs
        the registered env in local server processes (``local``; the OS limits of the sandboxes apply,
        not these); ``remote`` gets the Space URL. ``timeout_s`` is a per-step budget for the rollout
        client, so it stays in :attr:`limits`.
        """
        if self.kind == "docker":
            kwargs: dict[str, Any] = {"env": self.env_id, "image": self.image}
            if "cpus" in self.limits:
                kwargs["cpus"] = self.limits["cpus"]
            if "mem_limit" in self.limits:
                kwargs["mem_limit"] = f"{self.limits['mem_limit']}b"
            if "pids_limit" in self.limits:
                kwargs["pids_limit"] = self.limits["pids_limit"]
            return "docker", kwargs
        if self.kind == "package":
            return "local", {"env": self.env_id}
        return "remote", {"urls": [self.url], "env_id": self.env_id}

    def record(self) -> dict[str, Any]:
        """A JSON-able description for run records and bundles: secret names, never values."""
        return {
            "kind": self.kind,
            "env_id": self.env_id,
            "image": self.image,
            "package": self.package,
            "url": self.url,
            "limits": dict(self.limits),
            "secrets": sorted(self.secrets),
        }


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


def package_env(entry: EnvironmentEntry, trust_remote_code: bool = False, install: bool = True) -> str:
    """Make a ``package`` target's environment available and return its registered env id.

    Raises:
        TasksetError: refusal without ``trust_remote_code`` for third-party packages, a bad requirement,
            a failed install, or a package that does not provide the environment.
    """
    block = entry.openenv
    assert block.package is not None
    try:
        req = Requirement(block.package)
    except InvalidRequirement as exc:
        raise TasksetError(
            f"environment {entry.id!r}: package {block.package!r} is not a requirement: {exc}"
        ) from None
    env_id = block.env or entry.id
    if _normalise(req.name) != SELF_DISTRIBUTION and not trust_remote_code:
        raise TasksetError(
            f"environment {entry.id!r} runs package {block.package!r}: installing or importing it executes "
            "code named by the dataset. Refusing because trust_remote_code is False; review the package and "
            "pass trust_remote_code=True (taskset.trust_remote_code=true) to allow it."
        )
    dist = _installed(req)
    if dist is None:
        if not install or _normalise(req.name) == SELF_DISTRIBUTION:
            raise TasksetError(f"environment {entry.id!r}: package {block.package!r} is not installed")
        _install(block.package)
        dist = _installed(req)
        if dist is None:
            raise TasksetError(f"environment {entry.id!r}: {block.package!r} still not installed after pip")
    names = {ep.name for ep in dist.entry_points if ep.group == _ENTRY_POINT_GROUP}
    if env_id not in names:
        raise TasksetError(
            f"environment {entry.id!r}: package {req.name!r} does not provide environment {env_id!r} "
            f"(its {_ENTRY_POINT_GROUP} entry points: {', '.join(sorted(names)) or 'none'})"
        )
    return env_id


def runtime_for(
    entry: EnvironmentEntry,
    trust_remote_code: bool = False,
    environ: Mapping[str, str] | None = None,
    install: bool = True,
) -> RuntimeTarget:
    """Turn a manifest entry into a :class:`RuntimeTarget` for the runtime providers.

    Checks run in this order and all before anything starts: version, secrets, then the target itself.

    Args:
        entry: The manifest environment.
        trust_remote_code: Allow third-party ``package`` targets.
        environ: Where secrets are read (default ``os.environ``).
        install: pip-install a missing trusted package.

    Raises:
        TasksetError: with a message that says what to do.
    """
    _check_min_version(entry)
    block = entry.openenv
    secrets = read_secrets(block.secrets, environ)
    limits = _limits(entry)
    log.info("runtime for %s: %s target, secrets %s", entry.id, block.target, sorted(secrets) or "none")
    if block.image:
        return RuntimeTarget("docker", entry.id, image=block.image, limits=limits, secrets=secrets)
    if block.package:
        env_id = package_env(entry, trust_remote_code, install)
        return RuntimeTarget("package", env_id, package=block.package, limits=limits, secrets=secrets)
    assert block.space_id is not None
    if _hub_offline():
        raise TasksetError(
            f"environment {entry.id!r} runs on the Space {block.space_id!r}, which needs the network; "
            "HF_HUB_OFFLINE is set (unset it, or use a taskset with an image or package target)"
        )
    return RuntimeTarget("remote", entry.id, url=space_url(block.space_id), limits=limits, secrets=secrets)

"""Isolated virtual environments for third-party ``package`` runtime targets, cached by package hash.

A taskset whose manifest names a pip package (``frameworks.openenv.package``) runs that package's env in
server processes started from a virtual environment of its own, never from the orchestrator's interpreter:
the orchestrator does not import, install or even see the package; it talks to its servers over the wire
(untyped clients, the generic adapter from ``/schema``). :func:`package_venv` builds that venv once per
*key* and reuses it:

* key = the Python (version, implementation, platform), the requirement string, the bytes of a local wheel
  or folder the requirement points at (``name @ file:///...``), and the server dependencies' identity;
* contents = the env server's dependencies (from a checkout on Python 3.11: ``docker/requirements-server.lock``,
  hash-pinned, from wheels cached on the host; otherwise the harness's own requirements), the orchestrator's
  own ``openenv_harness`` package made importable by a symlink on a ``.pth`` path (nothing else of the
  orchestrator's ``site-packages`` is visible; the servers run exactly the harness code the orchestrator
  runs, so editing it needs no rebuild), then the requirement with its dependencies;
* pip resolves through the user's own configuration (index, ``PIP_FIND_LINKS``, ``PIP_NO_INDEX``...), so an
  offline machine installs from local wheels and a normal one from its index. A package that declares
  ``openenv-harness`` as a dependency makes pip fetch it (the venv has its code but not its metadata):
  third-party env packages should leave it out.

The venv is created with ``python -m venv --without-pip`` and filled by the orchestrator's pip with
``--python`` (~0.6 s instead of ~17 s to bootstrap pip into each venv). It is built under a temporary name
and renamed into place, so a half-built venv is never used and two concurrent builders end with one. The
entry point is checked inside the venv, and what the env says about itself (class, version, JSON schemas)
is stored beside it as ``openenv-harness-venv.json``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from packaging.requirements import InvalidRequirement, Requirement

log = logging.getLogger(__name__)

MARKER = "openenv-harness-venv.json"
_PRUNE_AFTER_S = 86400.0
"""Venvs of the same requirement built from other sources are removed once unused this long."""

_DESCRIBE = """
import json, sys
from importlib.metadata import entry_points
env_id = sys.argv[1]
eps = {ep.name: ep for ep in entry_points(group="openenv_harness.envs")}
if env_id not in eps:
    print(json.dumps({"missing": sorted(eps)}))
    raise SystemExit(0)
from openenv_harness.spec import spec
cls = spec(env_id).load()
print(json.dumps({"entry_point": eps[env_id].value, "class": cls.__name__,
                  "version": getattr(cls, "version", None), "schemas": cls.schemas()}, default=str))
"""


class PackageVenvError(RuntimeError):
    """A package venv could not be built (pip failed, the package does not provide the env, ...)."""


@dataclass(frozen=True)
class PackageVenv:
    """A ready virtual environment serving one third-party env package.

    Attributes:
        path: The venv folder.
        key: Its cache key (hex).
        python: Its interpreter (what the server processes run).
        requirement: The pip requirement installed in it.
        env_id: The env id its ``openenv_harness.envs`` entry point registers.
        info: What the env says about itself: ``entry_point``, ``class``, ``version``, ``schemas``, and
            ``package_version`` (the installed version of the requirement).
        build_s: Seconds spent building (0 when it came from the cache).
    """

    path: Path
    key: str
    python: Path
    requirement: str
    env_id: str
    info: dict[str, Any]
    build_s: float

    def record(self) -> dict[str, Any]:
        """A JSON-able description for run records and bundles (no schemas)."""
        return {
            "venv_key": self.key,
            "requirement": self.requirement,
            "package_version": self.info.get("package_version"),
            "env_class": self.info.get("class"),
            "env_version": self.info.get("version"),
        }


def venv_root() -> Path:
    """Where package venvs live: ``$OPENENV_HARNESS_VENVS``, else ``<cache>/venvs``.

    The cache is ``$OPENENV_HARNESS_CACHE`` (default ``~/.cache/openenv-harness``).
    """
    root = os.environ.get("OPENENV_HARNESS_CACHE") or os.path.join(Path.home(), ".cache", "openenv-harness")
    path = Path(os.environ.get("OPENENV_HARNESS_VENVS") or Path(root) / "venvs")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _local_path(req: Requirement) -> Path | None:
    if req.url and req.url.startswith("file:"):
        return Path(unquote(urlparse(req.url).path))
    return None


def _hash_path(h: Any, path: Path) -> None:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        if "__pycache__" in f.parts:
            continue
        h.update(str(f.relative_to(path) if path.is_dir() else f.name).encode() + b"\0")
        h.update(hashlib.sha256(f.read_bytes()).digest())


def _server_deps() -> tuple[str, list[str]]:
    """``(identity, pip install arguments)`` of the harness server's dependencies for the venv.

    From a checkout on Python 3.11: ``docker/requirements-server.lock`` (pinned by hash; its wheels cached on
    the host). Otherwise the harness distribution's own requirements, resolved by pip.
    """
    from openenv_harness._layout import is_checkout

    from ._docker_build import project_root

    if is_checkout() and sys.version_info[:2] == (3, 11):
        lock = project_root() / "docker" / "requirements-server.lock"
        if lock.is_file():
            digest = hashlib.sha256(lock.read_bytes()).hexdigest()
            return f"lock:{digest}", ["--no-deps", "--require-hashes", "-r", str(lock)]
    try:
        reqs = [r for r in (metadata.requires("openenv-harness") or []) if "extra ==" not in r]
    except metadata.PackageNotFoundError:
        reqs = [
            "pydantic>=2.7",
            "fastapi>=0.110",
            "uvicorn>=0.30",
            "httpx>=0.27",
            "websockets>=13",
            "pyyaml>=6",
        ]
    return "requires:" + ";".join(sorted(reqs)), reqs


def venv_key(requirement: str) -> str:
    """The cache key of the venv serving ``requirement`` (see the module docstring)."""
    req = Requirement(requirement)
    h = hashlib.sha256(b"openenv-harness-venv v1\0")
    impl = sys.implementation
    h.update(f"{impl.name}-{impl.cache_tag}-{platform.machine()}-{sys.version}\0".encode())
    h.update(f"{requirement}\0".encode())
    local = _local_path(req)
    if local is not None and local.exists():
        _hash_path(h, local)
    h.update(_server_deps()[0].encode())
    return h.hexdigest()


def _pip(python: Path, args: list[str], what: str, timeout_s: float) -> None:
    cmd = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check", "-q", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise PackageVenvError(f"{what}: pip did not finish within {timeout_s:.0f} s") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-6:]
        raise PackageVenvError(f"{what} failed (pip exit {proc.returncode}): " + " | ".join(tail))


def _install_self(venv: Path, python: Path, timeout_s: float) -> None:
    """Make the harness importable in the venv, with its server's dependencies.

    The venv sees this process's own ``openenv_harness`` package (a symlink to it on a ``.pth`` path of its
    own, so nothing else of this interpreter's ``site-packages`` is visible): its servers always run exactly
    the harness code the orchestrator runs, and a source edit needs no rebuild.
    """
    from openenv_harness._layout import PACKAGE_DIR

    ident, args = _server_deps()
    if ident.startswith("lock:"):
        from ._docker_build import locked_wheels

        args = [*args, "--find-links", str(locked_wheels())]
    _pip(python, ["install", *args], "installing the env server's dependencies", timeout_s)
    shared = venv / "harness"
    shared.mkdir()
    (shared / "openenv_harness").symlink_to(PACKAGE_DIR, target_is_directory=True)
    site = next((venv / "lib").glob("python*/site-packages"))
    # Relative to site-packages, so the venv still works after it is renamed into place.
    (site / "openenv_harness.pth").write_text(os.path.relpath(shared, site) + "\n")


def _describe(python: Path, env_id: str, requirement: str) -> dict[str, Any]:
    proc = subprocess.run(
        [str(python), "-I", "-c", _DESCRIBE, env_id], capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        raise PackageVenvError(
            f"environment {env_id!r} of {requirement!r} fails to load: " + " | ".join(tail)
        )
    info: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if "missing" in info:
        raise PackageVenvError(
            f"package {requirement!r} does not provide environment {env_id!r} (its openenv_harness.envs entry "
            f"points: {', '.join(info['missing']) or 'none'})"
        )
    name = Requirement(requirement).name
    version = subprocess.run(
        [str(python), "-I", "-c", f"import importlib.metadata as m; print(m.version({name!r}))"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    info["package_version"] = version or None
    return info


def _prune(root: Path, requirement: str, keep: Path) -> None:
    """Remove venvs of the same requirement built from other inputs (wheel bytes, Python, deps), once unused."""
    for marker in root.glob(f"*/{MARKER}"):
        venv = marker.parent
        if venv == keep:
            continue
        with contextlib.suppress(OSError, ValueError):
            if json.loads(marker.read_text()).get("requirement") != requirement:
                continue
            if time.time() - marker.stat().st_mtime > _PRUNE_AFTER_S:
                shutil.rmtree(venv, ignore_errors=True)


def package_venv(
    requirement: str,
    env_id: str,
    *,
    timeout_s: float = 900.0,
    say: Callable[[str], None] | None = None,
) -> PackageVenv:
    """The venv serving ``env_id`` from ``requirement``: found by key, or built (see the module docstring).

    Args:
        requirement: A pip requirement (``name``, ``name==1.2``, ``name @ file:///path/to.whl``).
        env_id: The env its ``openenv_harness.envs`` entry point must register.
        timeout_s: Budget of each pip call.
        say: Progress lines (a build takes a while the first time).

    Raises:
        PackageVenvError: a bad requirement, pip failing, or the package not providing ``env_id``.
    """
    try:
        Requirement(requirement)
    except InvalidRequirement as exc:
        raise PackageVenvError(f"package {requirement!r} is not a pip requirement: {exc}") from None
    key = venv_key(requirement)
    root = venv_root()
    path = root / key[:20]
    marker = path / MARKER
    python = path / "bin" / "python"
    if marker.is_file():
        return _described(path, key, requirement, env_id, 0.0)
    t0 = time.monotonic()
    (say or log.info)(f"building an isolated venv for {requirement} (once per package hash)")
    tmp = Path(tempfile.mkdtemp(prefix=f".build-{key[:8]}-", dir=root))
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(tmp)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        tmp_python = tmp / "bin" / "python"
        _install_self(tmp, tmp_python, timeout_s)
        _pip(tmp_python, ["install", requirement], f"installing {requirement}", timeout_s)
        info = _describe(tmp_python, env_id, requirement)
        record = {"requirement": requirement, "key": key, "envs": {env_id: info}}
        (tmp / MARKER).write_text(json.dumps(record, default=str))
        if path.exists() and not marker.is_file():  # left by a build that died half-way: replace it
            shutil.rmtree(path, ignore_errors=True)
        with contextlib.suppress(OSError):  # another builder finished first: use its venv, never remove it
            tmp.rename(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _prune(root, requirement, path)
    assert python.exists()
    return _described(path, key, requirement, env_id, time.monotonic() - t0)


def _described(path: Path, key: str, requirement: str, env_id: str, build_s: float) -> PackageVenv:
    """The venv at ``path`` with ``env_id`` described (checked in the venv the first time it is asked for)."""
    marker = path / MARKER
    stored = json.loads(marker.read_text())
    envs = dict(stored.get("envs") or {})
    if env_id not in envs:  # another env of the same package: check it in place, no rebuild
        envs[env_id] = _describe(path / "bin" / "python", env_id, requirement)
        stored["envs"] = envs
        part = marker.with_name(f"{MARKER}.{os.getpid()}")
        part.write_text(json.dumps(stored, default=str))
        part.replace(marker)
    os.utime(marker)  # in use: not pruned
    return PackageVenv(path, key, path / "bin" / "python", requirement, env_id, envs[env_id], build_s)

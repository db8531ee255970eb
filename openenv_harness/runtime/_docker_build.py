"""Build the Docker images the Docker provider runs: a local base image and one image per environment.

Docker Hub is not assumed to be reachable, so nothing is pulled:

* The **base image** ``openenv-harness/base:bookworm-py311`` is a minimal Debian bookworm (Python 3.11)
  made with ``debootstrap`` from the Debian mirror and ``docker import``-ed. The rootfs tarball is cached on
  the host (``~/.cache/openenv-harness/docker``), so a machine whose Docker store was wiped re-imports it in
  seconds instead of bootstrapping again (~40 s).
* An **env image** ``openenv-harness/env-<name>:<hash>`` is built from ``docker/env.Dockerfile`` (or the
  env folder's own ``Dockerfile``) with the network off. Its context holds wheels prepared on the host: the
  server deps pinned by hash in ``docker/requirements-server.lock``, the env's ``requirements.txt`` (if its
  folder has one) and the project's own wheel.

Both are cached by content: the image carries a label with the hash of everything that went into it
(recipe, lock, Dockerfile, project sources, env requirements, base image id), and a build whose hash already
has an image is skipped. The image id (``sha256:...``, content-addressed) is what eval bundles pin.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..spec import spec as env_spec
from ._docker_engine import LABEL_PREFIX, DockerUnavailable

BASE_IMAGE = "openenv-harness/base:bookworm-py311"
HASH_LABEL = f"{LABEL_PREFIX}.content-hash"
_SUITE = "bookworm"
_PY = "3.11"
_DEBOOTSTRAP_PACKAGES = "python3,python3-venv,ca-certificates"
# Part of the base recipe: changing what is trimmed changes the image, so it changes the hash too.
_TRIM = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/locale")
_SOURCE_DIRS = ("openenv_harness", "envs", "rubrics", "conf", "tasksets")
_SOURCE_FILES = ("pyproject.toml", "setup.py", "README.md")


@dataclass(frozen=True)
class BuiltImage:
    """An image ready to run.

    Attributes:
        tag: The tag it was built or found under.
        id: Its content-addressed image id (``sha256:...``): pin this.
        content_hash: Hash of the build inputs (None for an image given by the user).
        build_s: Seconds spent building (0 when it came from the cache).
    """

    tag: str
    id: str
    content_hash: str | None
    build_s: float


def cache_dir() -> Path:
    """Host cache of rootfs tarballs and wheels (``$OPENENV_HARNESS_CACHE`` or ``~/.cache/openenv-harness``)."""
    root = os.environ.get("OPENENV_HARNESS_CACHE") or os.path.join(Path.home(), ".cache", "openenv-harness")
    path = Path(root) / "docker"
    path.mkdir(parents=True, exist_ok=True)
    return path


def project_root() -> Path:
    """The source checkout the images are built from.

    Raises:
        DockerUnavailable: when openenv_harness is not installed from a checkout that has ``docker/``.
    """
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file() or not (root / "docker" / "env.Dockerfile").is_file():
        raise DockerUnavailable(
            f"building env images needs the openenv-harness source checkout (with docker/env.Dockerfile); "
            f"{root} is not one. Pass image=<a prebuilt image> to DockerProvider instead."
        )
    return root


def env_folder(env: str) -> Path:
    """The folder of a registered environment (the package of its entry point)."""
    module = env_spec(env).entry_point.split(":", 1)[0]
    found = importlib.util.find_spec(module)
    if found is None or found.origin is None:
        raise KeyError(f"environment {env!r}: cannot locate module {module!r}")
    return Path(found.origin).parent


def _hash_tree(h: Any, root: Path, rel: str) -> None:
    """Feed every file under ``root/rel`` (a file or a folder) into ``h``, with its path relative to root."""
    base = root / rel
    files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
    for path in files:
        parts = path.relative_to(root).parts
        if any(p == "__pycache__" or p.endswith(".egg-info") for p in parts) or path.suffix == ".pyc":
            continue
        h.update("/".join(parts).encode() + b"\0" + path.read_bytes() + b"\0")


def base_recipe_hash() -> str:
    """Hash of the base-image recipe (suite, packages, trimming, this module's version of it)."""
    recipe = f"debootstrap minbase {_SUITE} {_DEBOOTSTRAP_PACKAGES} trim={','.join(_TRIM)} v1"
    return hashlib.sha256(recipe.encode()).hexdigest()


def _find_labelled(client: Any, label: str, value: str, name: str | None = None) -> Any | None:
    """An image with ``label=value`` (and in repository ``name`` when given).

    Images built ``FROM`` another inherit its labels: the base image is looked up by name too, so an image
    derived from it that does not override the label is never taken for the base.
    """
    images = client.images.list(name=name, filters={"label": f"{label}={value}"})
    return images[0] if images else None


def _run(cmd: list[str], what: str, **kwargs: Any) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n" + "\n".join(tail))


def _make_rootfs_tar(dest: Path) -> None:
    """Run debootstrap for a minimal bookworm with Python into a tarball at ``dest`` (atomic)."""
    if shutil.which("debootstrap") is None:
        raise DockerUnavailable(
            "building the base image needs debootstrap (apt-get install -y debootstrap, or bash scripts/setup.sh)"
        )
    if os.geteuid() != 0:
        raise DockerUnavailable("building the base image runs debootstrap, which needs root")
    with tempfile.TemporaryDirectory(prefix="openenv-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        _run(
            ["debootstrap", "--variant=minbase", f"--include={_DEBOOTSTRAP_PACKAGES}", _SUITE, str(rootfs)],
            "debootstrap",
        )
        for rel in _TRIM:
            for child in (rootfs / rel).glob("*"):
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        part = dest.with_name(f"{dest.name}.{os.getpid()}.part")  # two builders never share a temp file
        # Sorted, numeric owners: the tarball does not depend on the host's user names or readdir order.
        _run(["tar", "--sort=name", "--numeric-owner", "-C", str(rootfs), "-cf", str(part), "."], "tar")
        part.replace(dest)


def ensure_base_image(client: Any, log: Any = None) -> BuiltImage:
    """Return the base image, importing or bootstrapping it if this engine does not have it yet."""
    recipe = base_recipe_hash()
    found = _find_labelled(client, HASH_LABEL, recipe, name=BASE_IMAGE.rsplit(":", 1)[0])
    if found is not None:
        return BuiltImage(BASE_IMAGE, found.id, recipe, 0.0)
    t0 = time.monotonic()
    tarball = cache_dir() / f"base-{_SUITE}-py{_PY}-{recipe[:16]}.tar"
    if not tarball.is_file():
        _say(log, f"bootstrapping Debian {_SUITE} for {BASE_IMAGE} (~40 s, once per machine)")
        _make_rootfs_tar(tarball)
    _say(log, f"importing {tarball.name} as {BASE_IMAGE}")
    repo, tag = BASE_IMAGE.rsplit(":", 1)
    changes = [
        f"LABEL {HASH_LABEL}={recipe}",
        "ENV LANG=C.UTF-8",
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        'CMD ["python3"]',
    ]
    client.api.import_image_from_file(str(tarball), repository=repo, tag=tag, changes=changes)
    image = client.images.get(BASE_IMAGE)
    return BuiltImage(BASE_IMAGE, image.id, recipe, time.monotonic() - t0)


def _pip(args: list[str], what: str) -> None:
    _run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args], what)


def _platform_args() -> list[str]:
    machine = platform.machine() or "x86_64"
    # Both tags: with only one, pip silently falls back to pure-Python versions of some packages.
    tags = [f"manylinux_2_28_{machine}", f"manylinux2014_{machine}"]
    out = ["--only-binary=:all:", "--python-version", _PY, "--implementation", "cp", "--abi", "cp311"]
    out += ["--abi", "abi3", "--abi", "none"]
    for tag in tags:
        out += ["--platform", tag]
    return out


def env_content_hash(env: str, base_id: str) -> str:
    """Hash of every input of ``env``'s image: Dockerfile, lock, project sources, env requirements, base."""
    root = project_root()
    folder = env_folder(env)
    if not folder.is_relative_to(root):
        raise ValueError(
            f"environment {env!r} lives in {folder}, outside the checkout {root}: the image installs the "
            "project's own wheel, so only environments under envs/ can be built (or pass image=...)"
        )
    h = hashlib.sha256(f"env={env}\0base={base_id}\0".encode())
    _hash_tree(h, root, "docker/env.Dockerfile")
    _hash_tree(h, root, "docker/requirements-server.lock")
    for rel in (*_SOURCE_FILES, *_SOURCE_DIRS):
        if (root / rel).exists():
            _hash_tree(h, root, rel)
    return h.hexdigest()


def locked_wheels() -> Path:
    """The wheels of ``docker/requirements-server.lock`` (cp311 manylinux), downloaded once per lock hash.

    Kept on the host by lock hash: image rebuilds (every source edit) and package venvs need no download.
    """
    lock = project_root() / "docker" / "requirements-server.lock"
    lock_hash = hashlib.sha256(lock.read_bytes()).hexdigest()[:16]
    cached = cache_dir() / f"wheels-{lock_hash}"
    if not cached.is_dir():
        part = Path(tempfile.mkdtemp(prefix="wheels-", dir=cache_dir()))
        _pip(
            [
                "download",
                "--no-deps",
                "--require-hashes",
                *_platform_args(),
                "-d",
                str(part),
                "-r",
                str(lock),
            ],
            "downloading the server wheels",
        )
        with contextlib.suppress(OSError):  # another process won the race: use its copy
            part.rename(cached)
        shutil.rmtree(part, ignore_errors=True)
    return cached


def build_project_wheel(dest: Path) -> Path:
    """Build the project's wheel into ``dest``; returns the wheel's path.

    It is built from a copy of the sources, so the shared checkout gets no ``build/`` dir.
    """
    root = project_root()
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="openenv-wheel-") as tmp:
        src = Path(tmp) / "project"
        src.mkdir()
        for rel in _SOURCE_FILES:
            if (root / rel).is_file():
                shutil.copy(root / rel, src / rel)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        for rel in _SOURCE_DIRS:
            if (root / rel).is_dir():
                shutil.copytree(root / rel, src / rel, ignore=ignore)
        _pip(
            ["wheel", "--no-deps", "--no-build-isolation", "-w", str(dest), str(src)],
            "building the project wheel",
        )
    (wheel,) = sorted(dest.glob("openenv_harness-*.whl"))
    return wheel


def _prepare_context(env: str, ctx: Path) -> Path:
    """Fill a build context with the Dockerfile and wheels; returns the Dockerfile path."""
    root = project_root()
    folder = env_folder(env)
    wheels = ctx / "wheels" / "deps"
    project = ctx / "wheels" / "project"
    wheels.mkdir(parents=True)
    lock = root / "docker" / "requirements-server.lock"
    shutil.copy(lock, wheels / "requirements-server.lock")
    for whl in locked_wheels().glob("*.whl"):
        shutil.copy(whl, wheels / whl.name)
    env_reqs = folder / "requirements.txt"
    if env_reqs.is_file():
        shutil.copy(env_reqs, wheels / "requirements-env.txt")
        _pip(
            ["download", *_platform_args(), "-d", str(wheels), "-r", str(env_reqs)],
            f"downloading the wheels of {env_reqs}",
        )
    else:
        (wheels / "requirements-env.txt").write_text("# no extra requirements\n")
    build_project_wheel(project)
    dockerfile = folder / "Dockerfile"
    shutil.copy(
        dockerfile if dockerfile.is_file() else root / "docker" / "env.Dockerfile", ctx / "Dockerfile"
    )
    return ctx / "Dockerfile"


def ensure_env_image(client: Any, env: str, rebuild: bool = False, log: Any = None) -> BuiltImage:
    """Return the image of environment ``env``, building it (offline) if its inputs changed.

    Args:
        client: A ``docker.DockerClient``.
        env: A registered environment id (e.g. ``echo``).
        rebuild: Build even when an image with the same content hash exists.
        log: Optional callable taking one progress line.
    """
    base = ensure_base_image(client, log=log)
    content = env_content_hash(env, base.id)
    repo = f"openenv-harness/env-{env}"
    tag = f"{repo}:{content[:12]}"
    found = None if rebuild else _find_labelled(client, HASH_LABEL, content)
    if found is not None:
        return BuiltImage(tag, found.id, content, base.build_s)
    t0 = time.monotonic()
    _say(log, f"building {tag}")
    with tempfile.TemporaryDirectory(prefix=f"openenv-build-{env}-") as tmp:
        _prepare_context(env, Path(tmp))
        try:
            image, _ = client.images.build(
                path=tmp,
                tag=tag,
                buildargs={"BASE_IMAGE": base.id, "ENV_NAME": env},
                labels={HASH_LABEL: content, f"{LABEL_PREFIX}.env": env, f"{LABEL_PREFIX}.base": base.id},
                network_mode="none",  # proves the build is offline
                rm=True,
                forcerm=True,
                pull=False,
            )
        except Exception as exc:  # docker.errors.BuildError carries the build log
            lines = [str(c.get("stream", c.get("error", ""))).rstrip() for c in getattr(exc, "build_log", [])]
            raise RuntimeError(
                f"building {tag} failed: {exc}\n" + "\n".join(x for x in lines if x)[-3000:]
            ) from None
    image.tag(repo, "latest")
    _prune_older(client, env, keep=content)
    return BuiltImage(tag, image.id, content, base.build_s + time.monotonic() - t0)


def _prune_older(client: Any, env: str, keep: str) -> None:
    """Remove this env's images from earlier source states (each edit of the sources builds a new one)."""
    for old in client.images.list(filters={"label": f"{LABEL_PREFIX}.env={env}"}):
        # Same inputs built twice by two processes at once: both images stay (either may be about to run).
        if (old.labels or {}).get(HASH_LABEL) != keep:
            # An image a container still uses (another process's provider) is refused: keep it then.
            with contextlib.suppress(Exception):
                client.images.remove(old.id, force=False, noprune=False)


def _say(log: Any, line: str) -> None:
    if log is not None:
        log(line)

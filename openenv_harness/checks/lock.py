"""The version lock of the shipped envs: ``envs/versions.lock`` maps env -> version -> source hash.

An env's ``version`` (served at ``/metadata``, recorded in bundles and episodes) only means something if a
change of its code changes it. The lock records, for every version each shipped env has had, the hash of its
source folder (the same ``source_hash`` eval bundles record, :data:`ENV_SOURCE_PATTERNS`). The test
``tests/unit/checks/test_versions_lock.py`` fails when an env's source no longer matches the hash locked for
its current version (its code changed without a version bump), or when its version is not locked yet.

After bumping ``version`` in the env class, one command records it::

    python -m openenv_harness.checks.lock --update

``--update`` only adds versions: it refuses to re-hash a version already locked (that would defeat the
guard; bump the version instead). Old versions stay in the file, so a bundle's ``(version, source_hash)``
can be looked up later. Without ``--update`` it checks and exits 1 on a problem.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from ..evals._manifest import ENV_SOURCE_PATTERNS, hash_tree

LOCK_NAME = "versions.lock"
_SHIPPED_PREFIX = "openenv_harness.envs."
_HEADER = """\
# Source hash of every shipped env at each of its versions (files {patterns} of envs/<name>/).
# tests/unit/checks/test_versions_lock.py fails when an env's source changes without a version bump.
# After bumping `version` in the env class:  python -m openenv_harness.checks.lock --update
"""

Lock = dict[str, dict[str, str]]


@dataclass(frozen=True)
class EnvSource:
    """One env's current version and source folder."""

    name: str
    version: str
    folder: Path

    def source_hash(self) -> str:
        """SHA-256 of the folder's source files (the hash eval bundles record as ``source_hash``)."""
        return hash_tree(self.folder, ENV_SOURCE_PATTERNS)


def lock_path() -> Path:
    """``envs/versions.lock`` of the checkout (or of the installed package's ``envs``)."""
    from .._layout import PACKAGE_DIR, checkout_folder

    folders = [Path(p) for p in checkout_folder("envs")] + [PACKAGE_DIR / "envs"]  # as envs/__init__.py does
    for folder in folders:
        if (folder / LOCK_NAME).is_file():
            return folder / LOCK_NAME
    return folders[0] / LOCK_NAME


def shipped_envs() -> list[EnvSource]:
    """Every env registered by an entry point into ``openenv_harness.envs`` (the shipped ones)."""
    from ..spec import load_entry_point

    out = []
    for ep in entry_points(group="openenv_harness.envs"):
        if not ep.value.startswith(_SHIPPED_PREFIX):
            continue  # an env another package ships: its own versioning
        cls = load_entry_point(ep.value)
        module = sys.modules[cls.__module__]
        out.append(EnvSource(ep.name, str(cls.version), Path(module.__file__ or "").parent))
    return sorted(out, key=lambda e: e.name)


def read_lock(path: Path) -> Lock:
    """The lock file's mapping (empty when the file does not exist)."""
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text())
    return {str(env): {str(v): str(h) for v, h in versions.items()} for env, versions in data.items()}


def write_lock(path: Path, lock: Mapping[str, Mapping[str, str]]) -> None:
    """Write the lock as TOML (tables sorted by env, versions in the order they were added)."""
    lines = [_HEADER.format(patterns=", ".join(ENV_SOURCE_PATTERNS))]
    for env in sorted(lock):
        lines.append(f"[{env}]")
        lines.extend(f'"{version}" = "{digest}"' for version, digest in lock[env].items())
        lines.append("")
    path.write_text("\n".join(lines))


def problems(lock: Mapping[str, Mapping[str, str]], envs: list[EnvSource]) -> list[str]:
    """One line per env whose current source is not what the lock says for its version."""
    out = []
    for env in envs:
        locked = lock.get(env.name, {}).get(env.version)
        if locked is None:
            out.append(
                f"{env.name} {env.version}: not in {LOCK_NAME}; record it with "
                "`python -m openenv_harness.checks.lock --update`"
            )
        elif locked != env.source_hash():
            out.append(
                f"{env.name} {env.version}: the source of {env.folder} changed since this version was locked; "
                f"bump `version` of the env class, then run `python -m openenv_harness.checks.lock --update`"
            )
    return out


def add_versions(lock: Mapping[str, Mapping[str, str]], envs: list[EnvSource]) -> tuple[Lock, list[str]]:
    """``lock`` plus every env's current version; and the refusals (a locked version whose source changed)."""
    out: Lock = {env: dict(versions) for env, versions in lock.items()}
    refused = []
    for env in envs:
        digest = env.source_hash()
        locked = out.setdefault(env.name, {}).get(env.version)
        if locked is None:
            out[env.name][env.version] = digest
        elif locked != digest:
            refused.append(
                f"{env.name} {env.version} is already locked with another source hash: bump its version"
            )
    return out, refused


def main(argv: list[str] | None = None) -> int:
    """Check the lock (exit 1 on a problem) or, with ``--update``, add the current versions to it."""
    parser = argparse.ArgumentParser(
        prog="python -m openenv_harness.checks.lock", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--update", action="store_true", help="add every env's current version to the lock")
    parser.add_argument("--lock", type=Path, default=None, help=f"lock file (default: envs/{LOCK_NAME})")
    args = parser.parse_args(argv)
    path = args.lock or lock_path()
    envs = shipped_envs()
    if not args.update:
        found = problems(read_lock(path), envs)
        for line in found:
            print(line, file=sys.stderr)
        return 1 if found else 0
    lock, refused = add_versions(read_lock(path), envs)
    for line in refused:
        print(f"error: {line}", file=sys.stderr)
    if refused:
        return 1
    write_lock(path, lock)
    print(f"{path}: {', '.join(f'{e.name} {e.version}' for e in envs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

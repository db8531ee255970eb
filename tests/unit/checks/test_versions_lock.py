"""The version-bump guard: an env's source may not change without a new version (``envs/versions.lock``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from packaging.version import Version

from openenv_harness.checks.lock import (
    EnvSource,
    add_versions,
    lock_path,
    main,
    problems,
    read_lock,
    shipped_envs,
    write_lock,
)
from openenv_harness.evals._manifest import environment_identity
from openenv_harness.spec import spec


def test_every_shipped_env_is_locked_at_its_current_version() -> None:
    envs = shipped_envs()
    assert {e.name for e in envs} >= {"arith", "coding", "echo", "support", "tools", "wordle"}
    found = problems(read_lock(lock_path()), envs)
    assert not found, "\n".join(found)


def test_versions_are_real_served_and_the_lock_hash_is_the_bundles_source_hash() -> None:
    lock = read_lock(lock_path())
    for env in shipped_envs():
        cls = spec(env.name).load()
        assert Version(env.version) > Version("0.0.0")  # a PEP 440 version, not the base class default
        assert cls.metadata().version == env.version  # what /metadata serves
        identity = environment_identity(env.name)  # what every eval bundle's manifest records
        assert (identity["version"], identity["source_hash"]) == (env.version, lock[env.name][env.version])


def test_a_change_without_a_bump_is_caught_and_update_will_not_hide_it(tmp_path: Path) -> None:
    real = next(e for e in shipped_envs() if e.name == "echo")
    folder = tmp_path / "echo"
    shutil.copytree(real.folder, folder, ignore=shutil.ignore_patterns("__pycache__"))
    env = EnvSource("echo", real.version, folder)
    lock = {"echo": {real.version: real.source_hash()}}
    assert problems(lock, [env]) == []

    (folder / "environment.py").write_text((folder / "environment.py").read_text() + "\n# a change\n")
    (changed,) = problems(lock, [env])
    assert changed.startswith(f"echo {real.version}: the source of ") and "bump `version`" in changed
    _, refused = add_versions(lock, [env])
    assert refused == [f"echo {real.version} is already locked with another source hash: bump its version"]

    bumped = EnvSource("echo", "9.9.9", folder)
    (missing,) = problems(lock, [bumped])
    assert "not in versions.lock" in missing and "--update" in missing
    updated, refused = add_versions(lock, [bumped])
    assert not refused and problems(updated, [bumped]) == []
    assert list(updated["echo"]) == [real.version, "9.9.9"]  # the old version is kept

    path = tmp_path / "versions.lock"
    write_lock(path, updated)
    assert read_lock(path) == updated
    assert path.read_text().startswith("# Source hash of every shipped env")


def test_the_command_checks_and_updates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "versions.lock"
    assert main(["--lock", str(path)]) == 1  # nothing locked yet
    assert "not in versions.lock" in capsys.readouterr().err
    assert main(["--lock", str(path), "--update"]) == 0
    assert main(["--lock", str(path)]) == 0
    real = read_lock(lock_path())
    assert all(
        real[env][version] == digest for env, vs in read_lock(path).items() for version, digest in vs.items()
    )

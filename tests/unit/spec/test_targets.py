"""``_target_`` resolves by registration (Rubric / Environment subclasses, declared factories, exact allowed
names), never through a module's attributes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from openenv_harness.rubric import Rubric, RubricError, WeightedSum, build_rubric
from openenv_harness.spec import Environment, allow_target, resolve_target
from openenv_harness.spec._targets import _allowed, split_target


def test_registered_classes_and_declared_factories_resolve() -> None:
    assert resolve_target("openenv_harness.rubric.WeightedSum", Rubric) is WeightedSum
    assert resolve_target("openenv_harness.rubric:WeightedSum", Rubric) is WeightedSum
    factory = resolve_target(
        "envs.arith.scoring.arith_rubric", Rubric
    )  # def arith_rubric(...) -> WeightedSum
    assert isinstance(factory(), WeightedSum)
    assert issubclass(resolve_target("envs.echo:EchoEnvironment", Environment), Environment)


@pytest.mark.parametrize(
    ("path", "error", "needle"),
    [
        # attribute chains through what a module imports: the module part must itself be a module
        ("openenv_harness.sandbox._workdir.shutil.copyfile", ImportError, "_workdir' is not a package"),
        ("openenv_harness.rubric._base.math.isfinite", ImportError, "is not a package"),
        # one attribute, but not a registered kind
        ("openenv_harness.sandbox._workdir:shutil", ValueError, "it is a module, not a Rubric"),
        ("openenv_harness.rubric.RewardConfig", ValueError, "class RewardConfig, not a Rubric"),
        ("openenv_harness.rubric._build:_plain", ValueError, "it is a function, not a Rubric"),
        ("envs.echo:EchoEnvironment", ValueError, "class EchoEnvironment, not a Rubric"),
        # outside the allowed packages: refused before import
        ("os.system", ValueError, "refusing to import 'os.system'"),
        ("os:system", ValueError, "refusing to import"),
        ("openenv_harness.rubric.WeightedSum.__init__", ImportError, "No module named"),
    ],
)
def test_everything_else_is_refused(path: str, error: type[Exception], needle: str) -> None:
    with pytest.raises(error, match=needle.replace(".", r"\.").replace("(", r"\(")):
        resolve_target(path, Rubric)


def test_malformed_paths() -> None:
    for bad in ("", "Name", "a..b", "a.b-c.D", "a.b:", ":D", "a.b.C D"):
        with pytest.raises(ValueError):
            split_target(bad)


def test_explicit_allow_list_of_exact_names() -> None:
    path = "openenv_harness.rubric._build:_plain"
    try:
        allow_target(path)
        assert resolve_target(path, Rubric).__name__ == "_plain"
        assert resolve_target("openenv_harness.rubric._build._plain", Rubric).__name__ == "_plain"
        with pytest.raises(ValueError):  # exact: a neighbour is not allowed along with it
            resolve_target("openenv_harness.rubric._build:_check_targets", Rubric)
    finally:
        _allowed.discard("openenv_harness.rubric._build._plain")


def test_build_rubric_never_runs_an_attribute_chain(tmp_path: Path) -> None:
    src, dst = tmp_path / "src.txt", tmp_path / "dst.txt"
    src.write_text("secret")
    with pytest.raises(RubricError) as info:
        build_rubric(
            {"_target_": "openenv_harness.sandbox._workdir.shutil.copyfile", "src": str(src), "dst": str(dst)}
        )
    assert not dst.exists(), "the target ran"
    assert "cannot build rubric" in str(info.value) and "is not a package" in str(info.value)
    with pytest.raises(RubricError, match=r"children\.x\._target_: refusing target"):
        build_rubric(
            {
                "_target_": "openenv_harness.rubric.WeightedSum",
                "children": {"x": {"_target_": "openenv_harness.sandbox._workdir:shutil"}},
            }
        )
    with pytest.raises(RubricError, match="_partial_ is not supported"):
        build_rubric({"_target_": "openenv_harness.rubric.WeightedSum", "_partial_": True})


def test_server_cli_resolves_only_environment_classes() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "openenv_harness.server", "--env", "openenv_harness.sandbox._workdir:shutil"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        out.returncode == 2 and "refusing target" in out.stderr and "not an Environment class" in out.stderr
    )

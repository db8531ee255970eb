"""``mode=new_env``: the scaffolded env passes ``check_env`` and its own generated tests as generated."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from openenv_harness.checks import check_env
from openenv_harness.scaffold import ScaffoldError, new_env


@pytest.fixture
def importable(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path/mine`` on ``sys.path``; the scaffolded package and its registration are forgotten afterwards."""
    from openenv_harness.spec import _registry

    root = tmp_path / "mine"
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m == "word_flip" or m.startswith("word_flip.")]:
        del sys.modules[name]
    _registry._registry.pop("word_flip", None)  # other tests walk every registered env


def test_scaffold_in_a_folder_passes_check_env_its_tests_and_a_collect_run(
    importable: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = new_env("word_flip", dir=importable)
    folder = importable / "word_flip"
    assert made.folder == folder and not made.registered
    names = {str(p.relative_to(folder)) for p in made.files}
    assert names == {
        "__init__.py",
        "models.py",
        "environment.py",
        "adapter.py",
        "oracle.py",
        "README.md",
        "tests/__init__.py",
        "tests/test_word_flip.py",
        "conf/env/word_flip.yaml",
        "conf/schedule/word_flip.yaml",
    }

    package = importlib.import_module("word_flip")
    oracle = importlib.import_module("word_flip.oracle")
    report = check_env(package.WordFlipEnvironment, oracle=oracle)
    report.raise_for_failures()
    assert {r.name for r in report.results if r.status == "pass"} >= {
        "oracle_max",
        "no_ground_truth",
        "error_codes",
    }

    # Its own tests, as a user runs them (bare and served contract, bounds, oracle, baseline).
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder / "tests")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(Path.cwd()), os.environ.get("PYTHONPATH", "")]),
        },
    )
    assert proc.returncode == 0 and "4 passed" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-2000:]

    # Registered, its conf entry composes through Hydra's search path and the harness runs it.
    from openenv_harness.config import compose_config
    from openenv_harness.harness import run_train
    from openenv_harness.spec import register

    register("word_flip", "word_flip:WordFlipEnvironment")
    cfg = compose_config(
        [
            "env=word_flip",
            f"hydra.searchpath=[file://{folder / 'conf'}]",
            "runtime=inprocess",
            "policy=scripted",
            "learner=collect",
            "learner.max_steps=1",
            "logger=quiet",
        ]
    )
    monkeypatch.chdir(tmp_path)
    metrics = run_train(cfg)
    assert metrics["steps"] == 1
    assert metrics["last"]["reward/component/format"] == 1.0  # the baseline: well formed ...
    assert metrics["last"]["reward/component/correct"] == 0.0  # ... and wrong


def test_checkout_layout_registers_the_entry_point_and_is_lint_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a checkout: envs/NAME, tests/envs/NAME, conf/{env,schedule}/NAME.yaml and a pyproject entry point."""
    import openenv_harness._layout as layout
    import openenv_harness.scaffold._new_env as scaffold

    real = Path(__file__).resolve().parents[3]
    shutil.copy(real / "pyproject.toml", tmp_path / "pyproject.toml")
    monkeypatch.setattr(layout, "data_root", lambda: tmp_path)
    monkeypatch.setattr(scaffold, "is_checkout", lambda: True)
    made = new_env("word_flip")
    assert made.registered and made.package == "envs.word_flip"
    for rel in (
        "envs/word_flip/environment.py",
        "tests/envs/word_flip/test_word_flip.py",
        "conf/env/word_flip.yaml",
        "conf/schedule/word_flip.yaml",
    ):
        assert (tmp_path / rel).is_file(), rel
    entry_points = tomllib.loads((tmp_path / "pyproject.toml").read_text())["project"]["entry-points"]
    envs = entry_points["openenv_harness.envs"]
    assert envs["word_flip"] == "openenv_harness.envs.word_flip:WordFlipEnvironment"
    assert {"arith", "echo"} <= set(envs)  # the table was extended, nothing else touched
    assert "from envs.word_flip import" in (tmp_path / "tests/envs/word_flip/test_word_flip.py").read_text()
    ruff = shutil.which("ruff")
    if ruff:  # the generated code meets this repository's lint and format rules
        for args in (["check", "--quiet"], ["format", "--check", "--quiet"]):
            proc = subprocess.run(
                [ruff, *args, "envs", "tests"], cwd=tmp_path, capture_output=True, text=True
            )
            assert proc.returncode == 0, proc.stdout + proc.stderr
    with pytest.raises(ScaffoldError, match="already exists"):
        new_env("word_flip")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Word-Flip", "use a lowercase identifier"),
        ("9lives", "use a lowercase identifier"),
        ("class", "shadows a Python keyword"),
        ("json", "standard-library module"),
        ("arith", "already registered"),
    ],
)
def test_bad_names_are_refused(name: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match=message):
        new_env(name, dir=tmp_path)
    assert not any(tmp_path.iterdir())  # nothing written


def test_cli(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "openenv_harness",
                "mode=new_env",
                *args,
                f"hydra.run.dir={tmp_path / 'run'}",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    ok = run("name=tile_game", f"dir={tmp_path / 'mine'}")
    assert ok.returncode == 0, ok.stderr
    assert f"new env 'tile_game' in {tmp_path / 'mine' / 'tile_game'} (10 files)" in ok.stdout
    assert (tmp_path / "mine" / "tile_game" / "environment.py").is_file()
    again = run("name=tile_game", f"dir={tmp_path / 'mine'}")
    assert (
        again.returncode == 1
        and again.stderr.strip().startswith("error: ")
        and "already exists" in again.stderr
    )
    assert len(again.stderr.strip().splitlines()) == 1
    missing = run()
    assert missing.returncode == 1 and "error: name: mode=new_env needs name=NAME" in missing.stderr

"""A taskset launches what its manifest declares: refusals before anything starts, AutoEnv, what is recorded.

Every refusal goes through the real entry (:func:`openenv_harness.cli.run`) for train (collect) and eval,
with process spawning, Docker and venv building replaced by tripwires: a refusal that started anything
fails the test.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf

from openenv_harness.cli import run
from openenv_harness.config import ConfigError, compose_config
from openenv_harness.config._launch import apply_launch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests"))

from autoenv.helpers import write_taskset  # noqa: E402

SECRET = "launch-secret-value-7c2d"
MODES = [["learner=collect", "learner.max_steps=1"], ["mode=eval", "eval.limit=1"]]


@pytest.fixture()
def tripwires(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (and refuse) every attempt to start a process, a container or a venv."""
    started: list[str] = []

    def refuse(what: str) -> Any:
        def trip(*args: Any, **kwargs: Any) -> Any:
            started.append(what)
            raise AssertionError(f"{what} started before the refusal")

        return trip

    monkeypatch.setattr(subprocess, "Popen", refuse("a process"))
    monkeypatch.setattr(subprocess, "run", refuse("a process"))
    monkeypatch.setattr("openenv_harness.runtime._docker.docker_client", refuse("a container"))
    monkeypatch.setattr("openenv_harness.runtime._venv.package_venv", refuse("a venv"))
    return started


def _refused(overrides: list[str], message: str, started: list[str], tmp_path: Path) -> None:
    for mode in MODES:
        cfg = compose_config(
            [*overrides, *mode, "policy=scripted", "logger=quiet", f"eval.out={tmp_path / 'bundle'}"]
        )
        with pytest.raises(SystemExit) as info:
            run(cfg)
        text = str(info.value.code)
        assert text.startswith("error: ") and "\n" not in text, text
        assert message in text, text
        assert SECRET not in text
    assert started == []
    assert not (tmp_path / "bundle").exists()


def _taskset(tmp_path: Path, **openenv: Any) -> Path:
    return write_taskset(tmp_path / "ts", "guess", openenv)


def test_untrusted_package_is_refused(tripwires: list[str], tmp_path: Path) -> None:
    ts = _taskset(tmp_path, package="guess-env", env="guess")
    _refused(
        ["env.id=guess", f"taskset.ref={ts}"],
        "runs package 'guess-env': that executes code named by the dataset. Refusing because trust_remote_code",
        tripwires,
        tmp_path,
    )


def test_untrusted_image_is_refused(tripwires: list[str], tmp_path: Path) -> None:
    ts = _taskset(tmp_path, image="ghcr.io/someone/guess:1")
    _refused(
        ["env.id=guess", f"taskset.ref={ts}"],
        "runs image 'ghcr.io/someone/guess:1': that executes code",
        tripwires,
        tmp_path,
    )


def test_missing_secret_is_refused_even_when_trusted(
    tripwires: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GUESS_TOKEN", raising=False)
    ts = _taskset(tmp_path, package="guess-env", env="guess", secrets=["GUESS_TOKEN"])
    overrides = ["env.id=guess", f"taskset.ref={ts}", "taskset.trust_remote_code=true"]
    _refused(overrides, "missing secret(s) GUESS_TOKEN: set these environment variables", tripwires, tmp_path)


def test_env_contradicting_the_manifest_is_refused(tripwires: list[str], tmp_path: Path) -> None:
    _refused(
        ["env=coding", "taskset=arith"],
        "error: env=coding contradicts taskset.ref=tasksets/arith: its manifest runs env 'arith'",
        tripwires,
        tmp_path,
    )


def test_taskset_null_in_an_env_file_does_not_hide_the_taskset(tmp_path: Path) -> None:
    """conf/env/coding.yaml has taskset: null; before, eval ran HumanEval while naming the arith taskset."""
    cfg = compose_config(["mode=eval", "env=coding", "taskset=humaneval"])
    apply_launch(cfg, explicit_env=True)  # coding is what tasksets/humaneval runs
    from openenv_harness.evals._runner import suite_from_cfg

    (spec,) = suite_from_cfg(cfg).evals
    assert spec.env_kwargs["taskset"] == spec.taskset == "tasksets/humaneval"
    cfg = compose_config(["env=coding", "taskset=humaneval", "env.kwargs.taskset=tasksets/arith"])
    with pytest.raises(ConfigError, match=r"^env\.kwargs\.taskset=tasksets/arith contradicts taskset\.ref="):
        apply_launch(cfg, explicit_env=True)


def test_autoenv_takes_the_manifest_env_and_its_groups() -> None:
    cfg = compose_config(["taskset=humaneval"])  # env defaults to arith, schedule followed it
    assert cfg.env.id == "arith" and cfg.schedule.targets
    record = apply_launch(cfg, explicit_env=False)
    assert cfg.env.id == "coding" and cfg.env.kwargs.sandbox == "bwrap"  # conf/env/coding.yaml
    assert list(cfg.schedule.targets) == list(OmegaConf.load(ROOT / "conf/schedule/coding.yaml").targets)
    assert record is not None and (record["kind"], record["env_id"]) == ("package", "coding")
    assert record["taskset"]["ref"] == "tasksets/humaneval" and record["limits"]["timeout_s"] == 60.0
    assert cfg.runtime.provider == "local" and cfg.runtime.step_timeout_s == 30.0  # min(30, manifest 60)
    again = apply_launch(cfg, explicit_env=True)  # idempotent (mode=verify re-runs a stored config)
    assert again == record


def test_own_package_on_docker_gets_the_manifest_limits() -> None:
    cfg = compose_config(["env=arith", "taskset=arith", "runtime=docker"])
    apply_launch(cfg, explicit_env=True)
    assert dict(cfg.runtime.options) == {"cpus": 1.0, "mem_limit": f"{512 * 1024**2}b", "pids_limit": 64}
    assert cfg.runtime.step_timeout_s == 30.0


def test_image_target_points_the_runtime_at_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUESS_TOKEN", SECRET)
    ts = write_taskset(
        tmp_path / "ts",
        "echo",  # a registered env id: nothing to ask the image about
        {
            "image": "openenv-harness/env-echo:latest",
            "secrets": ["GUESS_TOKEN"],
            "resources": {"memory": "1g"},
        },
    )
    cfg = compose_config([f"taskset.ref={ts}"])
    apply_launch(cfg, explicit_env=False)
    assert cfg.env.id == "echo" and dict(cfg.env.kwargs) == {}  # the image's own command takes none
    assert cfg.runtime.provider == "docker"
    assert dict(cfg.runtime.options) == {
        "image": "openenv-harness/env-echo:latest",
        "own_command": True,
        "mem_limit": f"{1024**3}b",
        "env_from": ["GUESS_TOKEN"],
    }
    assert SECRET not in OmegaConf.to_yaml(cfg)  # names only, in the config and so in every file written


def test_each_env_of_a_mixture_is_checked_against_its_taskset(tripwires: list[str]) -> None:
    from openenv_harness.harness.train import run_train

    cfg = compose_config(
        [
            "policy=scripted",
            "learner=collect",
            "mixture=[{env: arith, taskset: arith},{env: echo, taskset: arith}]",
        ]
    )
    with pytest.raises(ConfigError, match=r"^mixture echo: env=echo contradicts taskset\.ref=tasksets/arith"):
        run_train(cfg)
    assert tripwires == []

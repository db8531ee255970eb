"""A trusted third-party ``package`` target is really pip-installed (into a throwaway venv) and mapped to
the environment its entry point registers; untrusted, nothing is installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PROBE = textwrap.dedent(
    """
    import json, sys
    from openenv_harness.tasks import TasksetError, parse_manifest, runtime_for
    man = {"spec_version": "hf-rl-env-0.1", "environments": [{"id": "toy", "splits": ["train"],
           "frameworks": {"openenv": {"package": sys.argv[1], "env": "toyenv"}}}]}
    entry = parse_manifest(man, "environment.yaml").entry("toy")
    out = {}
    try:
        runtime_for(entry)
    except TasksetError as exc:
        out["untrusted"] = str(exc)
    import importlib.util
    out["installed_before"] = importlib.util.find_spec("toyenv_pkg") is not None
    target = runtime_for(entry, trust_remote_code=True)
    out["kind"], out["env_id"] = target.kind, target.env_id
    out["installed_after"] = importlib.util.find_spec("toyenv_pkg") is not None
    print(json.dumps(out))
    """
)


def _wheel(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "toyenv_pkg").mkdir(parents=True)
    (src / "toyenv_pkg" / "__init__.py").write_text("class ToyEnv:\n    pass\n")
    (src / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"
            [project]
            name = "toyenv-pkg"
            version = "0.1.0"
            [project.entry-points."openenv_harness.envs"]
            toyenv = "toyenv_pkg:ToyEnv"
            """
        )
    )
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-build-isolation",
            "--no-deps",
            "-q",
            "-w",
            str(dist),
            str(src),
        ],
        check=True,
        timeout=180,
        env={**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    (wheel,) = dist.glob("*.whl")
    return wheel


def test_trusted_package_is_installed_and_mapped(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=180
    )
    python = venv / "bin" / "python"
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [str(python), "-c", PROBE, f"toyenv-pkg @ {wheel.as_uri()}"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "Refusing because trust_remote_code is False" in out["untrusted"]
    assert out["installed_before"] is False
    assert (out["kind"], out["env_id"], out["installed_after"]) == ("package", "toyenv", True)
    # The global interpreter was not touched.
    check = subprocess.run([sys.executable, "-c", "import toyenv_pkg"], capture_output=True, timeout=60)
    assert check.returncode != 0

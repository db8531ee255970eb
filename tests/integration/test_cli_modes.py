"""Mode dispatch of the CLI: validate goes to the tasksets package and its exit code comes back."""

import subprocess
import sys


def _run(args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "openenv_harness", *args, f"hydra.run.dir={cwd / 'run'}"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_validate_shipped_taskset(tmp_path):
    proc = _run(["mode=validate", "taskset=arith"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_validate_broken_taskset_fails(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "environment.yaml").write_text("spec_version: hf-rl-env-0.1\nenvironments: [{title: no id}]\n")
    proc = _run(["mode=validate", f"taskset.ref={broken}"], tmp_path)
    assert proc.returncode != 0
    assert "id" in (proc.stdout + proc.stderr)

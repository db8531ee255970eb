"""Without Ray installed, ``runtime=ray`` ends the CLI with one line naming the extra (no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The CLI with `import ray` failing, as on an install without the `ray` extra.
NO_RAY = "import sys; sys.modules['ray'] = None; sys.argv[0] = 'openenv_harness'; from openenv_harness.cli import main; main()"


def test_runtime_ray_without_ray_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            NO_RAY,
            "mode=eval",
            "env=echo",
            "policy=scripted",
            "runtime=ray",
            "eval.num_tasks=2",
            f"eval.out={tmp_path / 'bundle'}",
            f"hydra.run.dir={tmp_path / 'run'}",
        ],
        cwd=tmp_path,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "error: runtime.provider=ray needs Ray, which is not installed: pip install 'openenv-harness[ray]'"
    ]
    assert "Traceback" not in proc.stdout + proc.stderr

"""Config and usage mistakes end the command with one ``error: <key>: ...`` line and exit 1, no traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

COLLECT = ["env=arith", "policy=scripted", "learner=collect", "learner.max_steps=1", "logger.progress=false"]


@pytest.mark.parametrize(
    ("args", "start"),
    [
        ([*COLLECT, "env.kwargs.difficulty=abc"], "error: env.kwargs.difficulty: 'abc' is not valid"),
        ([*COLLECT, "env.kwargs.attempts=11"], "error: env.kwargs.attempts: 11 is not valid for env 'arith'"),
        (["mode=serve", "env=arith", "env.kwargs.attempts=0"], "error: env.kwargs.attempts: 0 is not valid"),
        (
            ["mode=eval", "env=arith", "policy=scripted", "+rubric.weights.bogus=1"],
            "error: rubric.weights.bogus: ",
        ),
        (["mode=verify"], "error: mode=verify needs eval.bundle=DIR"),
        (["mode=verify", "eval.bundle=does/not/exist"], "error: does/not/exist is not an eval bundle"),
    ],
)
def test_one_line_error(tmp_path: Path, args: list[str], start: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "openenv_harness", *args, f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), proc.stderr
    assert not (tmp_path / "run" / "run.json").exists()  # nothing started

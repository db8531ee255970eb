"""Train mode runs ``eval.suite`` before, every N steps and after training, each time into a bundle."""

import json
import subprocess
import sys

import pytest

from openenv_harness.harness.records import read_scalars

SUITE = (
    "++eval.suite={name:mini,evals:["
    "{name:arith_q,env:arith,n_tasks:3,success_component:correct},"
    "{name:wordle_q,env:wordle,n_tasks:2,max_turns:6,success_component:solved}]}"
)


def test_collect_runs_the_suite_every_n_steps_into_bundles(tmp_path):
    run_dir = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "openenv_harness",
            "env=arith",
            "policy=scripted",
            "learner=collect",
            "learner.max_steps=5",
            "learner.group_size=2",
            "learner.groups_per_step=1",
            "eval.every_n_steps=2",
            SUITE,
            "logger=quiet",
            f"hydra.run.dir={run_dir}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    # Before training (0), after steps 2 and 4 (every 2) and after the last step (5).
    bundles = sorted(p.name for p in (run_dir / "evals").iterdir())
    assert bundles == ["step00000", "step00002", "step00004", "step00005"]
    scalars = read_scalars(run_dir / "tb")
    record = json.loads((run_dir / "run.json").read_text())
    assert sorted(record["metrics"]["eval_suite"], key=int) == ["0", "2", "4", "5"]
    for name in bundles:
        bundle = run_dir / "evals" / name
        results = json.loads((bundle / "results.json").read_text())["evals"]
        episodes = [json.loads(x) for x in (bundle / "episodes.jsonl").read_text().splitlines()]
        assert sorted(e["eval"] for e in episodes) == ["arith_q"] * 3 + ["wordle_q"] * 2
        assert (bundle / "manifest.json").exists() and (bundle / "report.html").exists()
        step = int(name.removeprefix("step"))
        for ev in ("arith_q", "wordle_q"):
            logged = dict(scalars[f"eval/{ev}/success_rate"])[step]
            assert logged == pytest.approx(results[ev]["success_rate"])
            assert (
                record["metrics"]["eval_suite"][str(step)]["evals"][ev]["n_episodes"]
                == results[ev]["n_episodes"]
            )
        # The scripted baseline solves every one-digit sum; wordle turns are recorded in the transcript.
        assert results["arith_q"]["success_rate"] == 1.0
        assert all(len(e["transcript"]) >= 1 for e in episodes if e["eval"] == "wordle_q")
    assert [s for s, _ in scalars["eval/arith_q/component/correct"]] == [0, 2, 4, 5]


def test_a_bad_suite_fails_before_training(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "openenv_harness",
            "env=arith",
            "policy=scripted",
            "learner=collect",
            "learner.max_steps=2",
            "++eval.suite={name:bad,evals:[{name:x,env:no_such_env}]}",
            "logger=quiet",
            f"hydra.run.dir={tmp_path / 'run'}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    assert "unknown environment 'no_such_env'" in proc.stderr
    assert not (tmp_path / "run" / "run.json").exists()  # refused before any server or run record

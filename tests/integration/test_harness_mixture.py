"""Mixtures and the fed curriculum through mode=train with learner=collect (real env servers, no model)."""

from __future__ import annotations

import json
import random
import re
import statistics
from typing import Any

from openenv_harness.config import compose_config
from openenv_harness.harness import run_train
from openenv_harness.harness.records import read_scalars
from openenv_harness.rollout import Policy
from openenv_harness.tasks import derive_seed

_SUM = re.compile(r"(\d+)\s*\+\s*(\d+)")


class NoisyPolicy(Policy):
    """Arith: right half the time (or always, for the ``solved`` sums); echo: 10-100 characters."""

    name = "noisy"

    def __init__(self, seed: int = 0, solved: Any = lambda total: False) -> None:
        self.rng, self.solved = random.Random(seed), solved

    def generate(self, chats: Any, *, temperature: Any = None, max_new_tokens: Any = None) -> list[str]:
        out = []
        for chat in chats:
            m = _SUM.search(str(chat[-1]["content"]))
            if m:
                total = int(m.group(1)) + int(m.group(2))
                right = self.solved(total) or self.rng.random() < 0.5
                out.append(str(total if right else total + 1))
            else:  # echo: reward = 0.1 x length, ten times arith's scale
                out.append("x" * self.rng.randint(10, 100))
        return out


def _run(tmp_path: Any, overrides: list[str], policy: Policy) -> dict[str, Any]:
    cfg = compose_config(["learner=collect", "logger=quiet", "runtime.sessions=8", *overrides])
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        run_train(cfg, policy=policy)
    finally:
        os.chdir(cwd)
    return json.loads(next(tmp_path.rglob("run.json")).read_text())


def test_mixture_normalises_each_env_and_draws_by_weight(tmp_path):
    record = _run(
        tmp_path,
        [
            "env=echo",
            "learner.max_steps=8",
            "learner.group_size=4",
            "learner.groups_per_step=4",
            "mixture=[{env: echo, weight: 1},{env: arith, weight: 3, schedule: arith}]",
        ],
        NoisyPolicy(),
    )
    assert record["status"] == "finished" and record["env"] == "echo+arith"
    # 32 groups, weights 1:3 -> exactly 8 and 24 (smooth weighted round-robin).
    assert record["metrics"]["groups_drawn"] == {"echo": 8, "arith": 24}
    run_dir = next(tmp_path.rglob("run.json")).parent
    eps = [json.loads(x) for x in (run_dir / "episodes.jsonl").read_text().splitlines()]
    assert {e["env"] for e in eps} == {"echo", "arith"}
    groups = {(e["step"], e["group"]): e["env"] for e in eps}
    assert sum(v == "echo" for v in groups.values()) == 8
    for step in range(8):  # every step's groups in proportion too (1 of 4 from echo)
        assert sum(v == "echo" for (s, _), v in groups.items() if s == step) == 1

    raw = {env: [e["reward"] for e in eps if e["env"] == env] for env in ("echo", "arith")}
    assert statistics.fmean(raw["echo"]) > 5 * statistics.fmean(raw["arith"])  # scales ~10x apart
    tb = read_scalars(run_dir / "tb")
    norm = record["metrics"]["planner"]["normalizer"]["envs"]
    assert norm["echo"]["count"] == 32 and norm["arith"]["count"] == 96
    for env in ("echo", "arith"):
        # Normalised with the env's own running mean/std: the same scale for both (mean ~0, std ~1).
        means = [v for _, v in tb[f"mixture/{env}/reward_norm"]]
        stds = [v for _, v in tb[f"mixture/{env}/reward_norm_std"]]
        assert abs(statistics.fmean(means[2:])) < 0.6, (env, means)
        assert 0.5 < statistics.fmean(stds[2:]) < 1.5, (env, stds)
        assert len(tb[f"mixture/{env}/reward_raw"]) == 8
    # Schedules reach their own env's servers only: arith's format weight, nothing pushed to echo.
    assert {p["env"] for p in record["metrics"]["schedule_pushes"]} == {"arith"}
    assert [s for s, _ in tb["schedule/arith/weights.format"]] == list(range(8))


def test_curriculum_draws_solved_tasks_less(tmp_path):
    solved = lambda total: total % 2 == 0  # noqa: E731 - even sums are trivially solved, odd ones a coin flip
    record = _run(
        tmp_path,
        [
            "env=arith",
            "taskset=arith",
            "taskset.sampler=curriculum",
            "taskset.limit=12",
            "learner.max_steps=16",
            "learner.group_size=4",
            "learner.groups_per_step=4",
        ],
        NoisyPolicy(seed=1, solved=solved),
    )
    run_dir = next(tmp_path.rglob("run.json")).parent
    eps = [json.loads(x) for x in (run_dir / "episodes.jsonl").read_text().splitlines()]
    # Which pool rows are solved: each row has a fixed seed; its question says whether the policy solves it.
    row_of = {derive_seed("episode", 0, i): i for i in range(12)}
    easy = {
        row_of[e["seed"]] for e in eps if solved(sum(map(int, _SUM.search(e["turns"][0]["prompt"]).groups())))
    }
    hard = set(range(12)) - easy
    assert easy and hard
    stats = record["metrics"]["planner"]["samplers"][0]["stats"]
    per_easy = statistics.fmean(stats[i]["groups"] for i in easy)
    per_hard = statistics.fmean(stats[i]["groups"] for i in hard)
    assert all(stats[i]["signal_groups"] == 0 for i in easy)
    assert per_easy < 0.6 * per_hard, (per_easy, per_hard, sorted(easy))
    # Drawn less as training goes on: in the second half the solved rows get well under their uniform share.
    share = []
    for half in (range(0, 8), range(8, 16)):
        grp = {(e["step"], e["group"]): row_of[e["seed"]] for e in eps if e["step"] in half}
        share.append(sum(r in easy for r in grp.values()) / len(grp))
    uniform = len(easy) / 12
    assert share[1] <= share[0] and share[1] < 0.75 * uniform, (share, uniform)
    tb = read_scalars(run_dir / "tb")
    assert len(tb["curriculum/arith/zero_signal_fraction"]) == 16
    assert tb["curriculum/arith/groups"][-1][1] == 64

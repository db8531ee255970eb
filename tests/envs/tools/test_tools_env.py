from __future__ import annotations

import pytest

from envs.tools import ToolsAction, ToolsConfig, ToolsEnvironment
from envs.tools.calculator import CalculatorError, calculate
from envs.tools.database import build_database, lock_read_only, run_query
from envs.tools.oracle import hidden, null_action, oracle_action
from envs.tools.tasks import TEMPLATES, check_answer, make_task
from openenv_harness.spec import EnvError, ErrorCode


def _run(env: ToolsEnvironment, policy, seed: int) -> float:  # type: ignore[no-untyped-def]
    obs = env.reset(seed=seed)
    for _ in range(env.max_steps):
        obs = env.step(ToolsAction.model_validate(policy(obs.model_dump(mode="json"))))
        if obs.done:
            return float(obs.reward or 0.0)
    raise AssertionError("episode did not end")


def test_seed_determines_episode_and_answer_not_leaked() -> None:
    a, b = ToolsEnvironment(), ToolsEnvironment()
    oa, ob = a.reset(seed=11), b.reset(seed=11)
    assert oa.question == ob.question and oa.metadata["task"] == ob.metadata["task"]
    assert a.ground_truth() == b.ground_truth()
    dump = oa.model_dump_json() + a.state.model_dump_json()
    assert str(a.ground_truth()) not in oa.question
    assert f'"{a.ground_truth()}"' not in dump
    questions = {ToolsEnvironment().reset(seed=s).question for s in range(12)}
    assert len(questions) > 5


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_oracle_solves_every_template_and_do_nothing_fails(template: str) -> None:
    env = ToolsEnvironment(template=template)
    for seed in range(3):
        assert _run(env, oracle_action, seed) == 1.0
        assert hidden(seed, template=template)["answer"] == env.ground_truth()
        assert _run(env, null_action, seed) == 0.0


def test_step_tool_calls_results_and_errors() -> None:
    env = ToolsEnvironment()
    env.reset(seed=1)
    obs = env.step(ToolsAction(tool="sql", args={"query": "SELECT COUNT(*) AS n FROM orders"}))
    assert obs.tool_error is None and '"rows": [[30]]' in (obs.tool_result or "") and obs.reward == 0.0
    obs = env.step(ToolsAction(tool="sql", args={"query": "DROP TABLE orders"}))
    assert obs.tool_result is None and "read-only" in (obs.tool_error or "")
    obs = env.step(ToolsAction(tool="calculator", args={"expression": "round(7 / 3, 2)"}))
    assert obs.tool_result == "2.33"
    obs = env.step(ToolsAction(tool="reset", args={}))
    assert "unknown tool 'reset'" in (obs.tool_error or "")
    assert env.state.tool_calls == 4 and env.state.step_count == 4 and not obs.done


def test_action_needs_exactly_one_kind() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ToolsAction.model_validate({})
    with pytest.raises(ValueError, match="exactly one"):
        ToolsAction.model_validate({"tool": "sql", "answer": "3"})


def test_max_steps_ends_unanswered_and_step_after_done_refused() -> None:
    env = ToolsEnvironment(max_steps=2)
    env.reset(seed=0)
    env.step(ToolsAction(tool="calculator", args={"expression": "1+1"}))
    obs = env.step(ToolsAction(tool="calculator", args={"expression": "2+2"}))
    assert obs.done and obs.reward == 0.0 and obs.tool_result == "4"
    assert obs.metadata["answered"] is False
    with pytest.raises(EnvError) as info:
        env.step(ToolsAction(answer="1"))
    assert info.value.code == ErrorCode.EPISODE_DONE


def test_tool_budget_and_weights() -> None:
    env = ToolsEnvironment(max_tool_calls=1)
    env.configure(ToolsConfig(weights={"correct": 2.5}), 7)
    env.reset(seed=2)
    env.step(ToolsAction(tool="calculator", args={"expression": "1"}))
    obs = env.step(ToolsAction(tool="calculator", args={"expression": "1"}))
    assert "budget" in (obs.tool_error or "")
    obs = env.step(ToolsAction(answer=str(env.ground_truth())))
    assert obs.reward == 2.5 and obs.metadata["reward_components"] == {"correct": 1.0}
    assert obs.metadata["reward_weights"] == {"correct": 2.5} and obs.metadata["config_version"] == 7


def test_reset_validation_and_unique_live_episode_ids() -> None:
    a, b = ToolsEnvironment(), ToolsEnvironment()
    a.reset(seed=0, episode_id="shared-id")
    with pytest.raises(EnvError, match="already in use"):
        b.reset(seed=0, episode_id="shared-id")
    a.close()
    b.reset(seed=0, episode_id="shared-id")  # free again once the first owner closed
    with pytest.raises(EnvError, match="unknown template"):
        b.reset(seed=0, template="nope")
    with pytest.raises(EnvError, match="only 'template'"):
        b.reset(seed=0, level=3)


def test_read_only_database_guards() -> None:
    conn = build_database(0)
    lock_read_only(conn)
    for query in [
        "INSERT INTO customers VALUES (99, 'x', 'y')",
        "UPDATE products SET price = 0",
        "ATTACH DATABASE '/tmp/x.db' AS x",
        "PRAGMA query_only = OFF",
    ]:
        with pytest.raises(ValueError, match="read-only"):
            run_query(conn, query)
    with pytest.raises(ValueError, match="one statement"):
        run_query(conn, "SELECT 1; SELECT 2")
    big = run_query(conn, "SELECT a.id FROM orders a, orders b", max_rows=10)
    assert len(big["rows"]) == 10 and big["truncated"]
    with pytest.raises(ValueError, match="too long"):
        run_query(conn, "SELECT COUNT(*) FROM orders a, orders b, orders c, orders d, orders e, orders f")


def test_calculator() -> None:
    assert calculate("(3 + 4) * 2.5") == 17.5
    assert calculate("round(10 / 3, 2)") == 3.33
    for bad, msg in [
        ("__import__('os')", "unsupported name"),
        ("1/0", "division by zero"),
        ("9 ** 99999", "too large"),
        ("'a' * 3", "unsupported syntax"),
        ("1 +", "not an arith"),
    ]:
        with pytest.raises(CalculatorError, match=msg):
            calculate(bad)


def test_check_answer() -> None:
    assert check_answer("It is 1,234.50 in total", 1234.5)
    assert check_answer("12.504", 12.5) and not check_answer("12.52", 12.5)
    assert not check_answer("no idea", 3.0)
    assert check_answer(" bruno. ", "Bruno") and not check_answer("Ada Bruno Chen", "Bruno")
    conn = build_database(5)
    assert make_task(conn, 5) == make_task(conn, 5)

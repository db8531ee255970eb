import json
import shutil

import pytest

from openenv_harness.evals._records import EpisodeLog
from openenv_harness.evals._report import write_report
from openenv_harness.evals._suite import EvalSpec, Suite, stable_hash
from openenv_harness.evals._verify import compare, flatten, format_table


def rec(task, sample, reward=1.0):
    return {"eval": "e", "task_id": task, "sample": sample, "reward": reward}


def test_log_dedupes_and_survives_a_torn_line(tmp_path):
    path = tmp_path / "episodes.jsonl"
    log = EpisodeLog(path)
    assert log.append(rec("t1", 0))
    assert not log.append(rec("t1", 0, reward=0.0))
    assert log.append(rec("t2", 0))
    with path.open("a") as fh:  # what a SIGKILL in the middle of a write leaves behind
        fh.write('{"eval": "e", "task_id": "t3", "sam')
    log2 = EpisodeLog(path)
    assert [r["task_id"] for r in log2.read()] == ["t1", "t2"]
    assert log2.has(("e", "t1", 0)) and not log2.has(("e", "t3", 0))
    assert log2.append(rec("t3", 0))
    assert [json.loads(line)["task_id"] for line in path.read_text().splitlines()] == ["t1", "t2", "t3"]


def test_suite_round_trip_and_validation():
    s = Suite(name="s", evals=[EvalSpec(name="a"), EvalSpec(name="b", env="arith")])
    assert Suite.from_dict(s.to_dict()) == s
    assert stable_hash(s.to_dict()) == stable_hash(Suite.from_dict(s.to_dict()).to_dict())
    with pytest.raises(ValueError, match="unknown field.*'nsamples'"):
        Suite.from_dict({"evals": [{"name": "a", "nsamples": 3}]})
    with pytest.raises(ValueError, match="unique"):
        Suite.from_dict({"evals": [{"name": "a"}, {"name": "a"}]})


def test_compare_names_identity_and_result_changes():
    res = {"evals": {"e": {"success_rate": 0.5, "per_task": {"t": {"reward_mean": 0.5}}}}}
    man = {"suite_hash": "x", "policy": {"id": "m", "hash": "h1"}, "datasets": {"e": {"content_hash": "d1"}}}
    assert compare(res, res, man, man) == []
    res2 = {"evals": {"e": {"success_rate": 0.6, "per_task": {"t": {"reward_mean": 0.5}}}}}
    man2 = {**man, "datasets": {"e": {"content_hash": "d2"}}}
    diffs = compare(res, res2, man, man2)
    assert [(d.kind, d.path) for d in diffs] == [
        ("identity", "datasets.e.content_hash"),
        ("result", "evals.e.success_rate"),
    ]
    assert compare(res, res2, man, man, tolerances={"e": 0.2}) == []
    table = format_table(diffs)
    assert "datasets.e.content_hash" in table and "d1" in table and "d2" in table
    assert flatten({"a": [1, {"b": 2}]}) == {"a.0": 1, "a.1.b": 2}


@pytest.mark.skipif(shutil.which("true") is None, reason="needs a POSIX userland")
def test_report_writes_html_and_pngs(tmp_path):
    results = {
        "suite": "s",
        "evals": {
            "e": {
                "n_episodes": 2,
                "success_rate": 0.5,
                "success_stderr": 0.5,
                "pass_at_k": {"1": 0.5},
                "reward_mean": 0.5,
                "error_rate": 0.0,
                "components": {"correct": 0.5},
            }
        },
    }
    page = write_report(tmp_path, results, {"policy": {"id": "p<x>"}})
    text = page.read_text()
    assert "p&lt;x&gt;" in text and "plots/success.png" in text
    for png in ("success.png", "components.png"):
        assert (tmp_path / "plots" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

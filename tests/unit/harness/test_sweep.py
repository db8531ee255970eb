import json

from openenv_harness.harness.sweep import collect_jobs, format_table, write_summary


def _job(root, num, overrides, record):
    d = root / str(num)
    (d / ".hydra").mkdir(parents=True)
    (d / ".hydra" / "config.yaml").write_text("{}")
    (d / ".hydra" / "overrides.yaml").write_text("\n".join(f"- {o}" for o in overrides) + "\n")
    if record is not None:
        (d / "run.json").write_text(json.dumps(record))


def test_summary_table(tmp_path):
    _job(
        tmp_path,
        0,
        ["learner.lr=0.1"],
        {"status": "finished", "steps": 3, "wall_time_s": 1.5, "metrics": {"last": {"reward/mean": 0.25}}},
    )
    _job(tmp_path, 1, ["learner.lr=0.2"], None)
    rows = collect_jobs(tmp_path)
    assert [r["job"] for r in rows] == ["0", "1"]
    assert rows[0]["reward/mean"] == 0.25 and rows[1]["status"] == "no run.json"
    table = write_summary(tmp_path)
    assert "learner.lr=0.1" in table and "learner.lr=0.2" in table
    assert (tmp_path / "summary.md").read_text().count("\n| ") >= 3
    assert format_table([]) == "(no jobs)\n"


def _hydra_cfg(sweep_dir, mode, job="0"):
    from omegaconf import OmegaConf

    hydra = {"mode": mode, "sweep": {"dir": str(sweep_dir)}, "runtime": {"output_dir": str(sweep_dir / job)}}
    return OmegaConf.create({"hydra": hydra, "x": 1})


def test_job_end_writes_summary_in_a_multirun_only(tmp_path):
    from hydra.core.utils import JobReturn
    from hydra.types import RunMode

    from openenv_harness.harness.sweep import SweepSummaryCallback

    _job(
        tmp_path, 0, ["learner.lr=0.1"], {"status": "failed", "steps": 0, "error": "RuntimeError: boom\nmore"}
    )
    callback = SweepSummaryCallback()
    callback.on_job_end(_hydra_cfg(tmp_path, RunMode.RUN), JobReturn())
    assert not (tmp_path / "summary.md").exists()  # a single run is not a sweep
    callback.on_job_end(_hydra_cfg(tmp_path, RunMode.MULTIRUN), JobReturn())
    summary = (tmp_path / "summary.md").read_text()
    assert "| failed |" in summary and "RuntimeError: boom" in summary and "more" not in summary
    header = summary.splitlines()[2]
    assert header.rstrip(" |").endswith("error")  # the free-text column comes last
    assert not list(tmp_path.glob("*.tmp"))  # no temp file left behind


def test_job_end_merges_its_own_row_without_rescanning(tmp_path):
    from hydra.core.utils import JobReturn
    from hydra.types import RunMode

    from openenv_harness.harness.sweep import SweepSummaryCallback

    callback = SweepSummaryCallback()
    _job(tmp_path, 1, ["learner.lr=0.2"], {"status": "finished", "steps": 2})
    callback.on_job_end(_hydra_cfg(tmp_path, RunMode.MULTIRUN, "1"), JobReturn())
    _job(tmp_path, 0, ["learner.lr=0.1"], {"status": "running", "steps": 0})
    # Job 0's dir appeared but only job 1 reported: the per-job write reads job 1's dir alone.
    assert [r["job"] for r in json.loads((tmp_path / "summary.json").read_text())] == ["1"]
    callback.on_job_end(_hydra_cfg(tmp_path, RunMode.MULTIRUN, "0"), JobReturn())
    (tmp_path / "0" / "run.json").write_text(json.dumps({"status": "finished", "steps": 3}))
    callback.on_job_end(_hydra_cfg(tmp_path, RunMode.MULTIRUN, "0"), JobReturn())  # a rerun replaces its row
    rows = json.loads((tmp_path / "summary.json").read_text())
    assert [(r["job"], r["status"], r["steps"]) for r in rows] == [("0", "finished", 3), ("1", "finished", 2)]
    assert (tmp_path / "summary.md").read_text().count("| finished |") == 2


def test_concurrent_job_ends_lose_no_row(tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    from openenv_harness.harness.sweep import update_summary

    for i in range(24):
        _job(tmp_path, i, [f"experiment.seed={i}"], {"status": "finished", "steps": 1})
    with ProcessPoolExecutor(4) as pool:
        list(pool.map(update_summary, [tmp_path] * 24, [tmp_path / str(i) for i in range(24)]))
    rows = json.loads((tmp_path / "summary.json").read_text())
    assert sorted(int(r["job"]) for r in rows) == list(range(24))

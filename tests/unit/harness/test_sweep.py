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


def _hydra_cfg(sweep_dir, mode):
    from omegaconf import OmegaConf

    return OmegaConf.create({"hydra": {"mode": mode, "sweep": {"dir": str(sweep_dir)}}, "x": 1})


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
    assert not list(tmp_path.glob(".summary*"))  # no temp file left behind

"""Multirun summary: a Hydra callback that tabulates every job of a sweep when it ends.

Launchers run jobs in other processes (joblib, submitit) or on other machines (SLURM, Ray), so the callback
does not collect return values: it reads each job dir's ``run.json`` under the sweep dir and writes
``summary.md`` (a Markdown table: job, overrides, status, steps, wall time, key metrics, error) and
``summary.json`` there. It does so twice:

* at ``on_job_end``, in the job's own process (wherever the launcher ran it), after every job, failed ones
  included. Hydra's sweeper raises as soon as it sees a failed job, and ``on_multirun_end`` is then never
  called: without this, a sweep with one failure would leave no summary at all. The job merges its own row
  into ``summary.json`` (read-modify-write under an ``flock`` of ``.summary.lock``, so jobs ending together
  lose no row) instead of re-reading every job's ``run.json``, which would make a sweep of N jobs read N^2;
* at ``on_multirun_end``, in the launching process, once every job is done: a full rescan of the job dirs
  (authoritative, whatever the per-job writes saw); it also prints the table.

Files are replaced atomically (a temp file then ``os.replace``), so a reader never sees a torn file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

_METRIC_KEYS = ("reward/mean", "reward/std", "eval/success", "learner/loss")


def _overrides(job_dir: Path) -> str:
    path = job_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return ""
    import yaml

    return " ".join(yaml.safe_load(path.read_text()) or [])


def job_row(sweep_dir: str | Path, job_dir: str | Path) -> dict[str, Any]:
    """The summary row of one job dir (``job`` is its path relative to ``sweep_dir``)."""
    job = Path(job_dir)
    row: dict[str, Any] = {"job": str(job.relative_to(sweep_dir)), "overrides": _overrides(job)}
    rec_path = job / "run.json"
    if not rec_path.is_file():
        row["status"] = "no run.json"
        return row
    rec = json.loads(rec_path.read_text())
    row.update(status=rec.get("status"), steps=rec.get("steps"), wall_time_s=rec.get("wall_time_s"))
    last = dict((rec.get("metrics") or {}).get("last") or {})
    for key in _METRIC_KEYS:
        if key in last:
            row[key] = last[key]
    after = (rec.get("metrics") or {}).get("eval_after") or {}
    if "success" in after:
        row["eval/success"] = after["success"]
    if rec.get("error"):
        row["error"] = str(rec["error"]).splitlines()[0][:160]
    return row


def collect_jobs(sweep_dir: str | Path) -> list[dict[str, Any]]:
    """One row per job dir with a ``run.json`` (or a ``.hydra`` folder) under ``sweep_dir``."""
    root = Path(sweep_dir)
    dirs = sorted({p.parent.parent for p in root.rglob(".hydra/config.yaml")} - {root}, key=str)
    return [job_row(root, job) for job in dirs]


def format_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of the rows (columns in first-seen order)."""
    if not rows:
        return "(no jobs)\n"
    cols: list[str] = []
    for r in rows:
        cols.extend(k for k in r if k not in cols)
    cols.sort(key=lambda c: c == "error")  # the long free-text column last (the sort is stable)

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return "" if v is None else str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step (concurrent jobs may write the same file)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_files(sweep_dir: Path, rows: list[dict[str, Any]]) -> str:
    table = format_table(rows)
    _write_atomic(sweep_dir / "summary.md", f"# Sweep summary\n\n{table}")
    _write_atomic(sweep_dir / "summary.json", json.dumps(rows, indent=2, default=str))
    return table


def write_summary(sweep_dir: str | Path) -> str:
    """Write ``summary.md`` and ``summary.json`` in ``sweep_dir`` from every job dir; return the table."""
    root = Path(sweep_dir)
    with _locked(root):
        return _write_files(root, collect_jobs(root))


@contextlib.contextmanager
def _locked(sweep_dir: Path) -> Iterator[None]:
    """Exclusive ``flock`` on the sweep's lock file (a filesystem without locks: no lock, last writer wins)."""
    with open(sweep_dir / ".summary.lock", "a") as f:
        with contextlib.suppress(OSError):
            fcntl.flock(f, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def update_summary(sweep_dir: str | Path, job_dir: str | Path) -> str:
    """Merge one job's row into ``summary.json`` (replacing an older row of that job) and rewrite both files.

    Returns:
        The table.
    """
    root = Path(sweep_dir)
    row = job_row(root, job_dir)
    with _locked(root):
        try:
            rows = [r for r in json.loads((root / "summary.json").read_text()) if isinstance(r, dict)]
        except (OSError, ValueError):
            rows = []
        rows = sorted(
            [r for r in rows if r.get("job") != row["job"]] + [row], key=lambda r: str(r.get("job"))
        )
        return _write_files(root, rows)


class SweepSummaryCallback(Callback):
    """Hydra callback (``hydra.callbacks.summary``) writing the sweep summary after each job and at the end."""

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        """In a multirun, rewrite the summary with this job's ``run.json`` (also when the job failed)."""
        hydra = config.get("hydra")
        if hydra is None or hydra.get("mode") != RunMode.MULTIRUN:
            return
        sweep_dir = Path(str(hydra.sweep.dir)).absolute()
        job_dir = Path(str(hydra.runtime.output_dir)).absolute()
        if not sweep_dir.is_dir():
            return
        if job_dir.is_relative_to(sweep_dir) and job_dir != sweep_dir:
            update_summary(sweep_dir, job_dir)
        else:  # a job dir outside the sweep dir (a custom hydra.sweep.subdir): rescan
            write_summary(sweep_dir)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Tabulate every job under ``hydra.sweep.dir``."""
        sweep_dir = Path(config.hydra.sweep.dir)
        if sweep_dir.is_dir():
            table = write_summary(sweep_dir)
            print(f"\nSweep summary ({sweep_dir}/summary.md):\n{table}", flush=True)

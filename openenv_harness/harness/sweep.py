"""Multirun summary: a Hydra callback that tabulates every job of a sweep when it ends.

Launchers run jobs in other processes (joblib) or on other machines (submitit, Ray), so the callback does not
collect return values; at ``on_multirun_end`` it reads each job dir's ``run.json`` under the sweep dir and
writes ``summary.md`` (a Markdown table: job, overrides, status, steps, wall time, key metrics) and
``summary.json`` there, and prints the table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

_METRIC_KEYS = ("reward/mean", "reward/std", "eval/success", "learner/loss")


def _overrides(job_dir: Path) -> str:
    path = job_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return ""
    import yaml

    return " ".join(yaml.safe_load(path.read_text()) or [])


def collect_jobs(sweep_dir: str | Path) -> list[dict[str, Any]]:
    """One row per job dir with a ``run.json`` (or a ``.hydra`` folder) under ``sweep_dir``."""
    rows: list[dict[str, Any]] = []
    root = Path(sweep_dir)
    dirs = sorted({p.parent.parent for p in root.rglob(".hydra/config.yaml")} - {root}, key=str)
    for job in dirs:
        row: dict[str, Any] = {"job": str(job.relative_to(root)), "overrides": _overrides(job)}
        rec_path = job / "run.json"
        if rec_path.is_file():
            rec = json.loads(rec_path.read_text())
            row.update(status=rec.get("status"), steps=rec.get("steps"), wall_time_s=rec.get("wall_time_s"))
            last = dict((rec.get("metrics") or {}).get("last") or {})
            for key in _METRIC_KEYS:
                if key in last:
                    row[key] = last[key]
            after = (rec.get("metrics") or {}).get("eval_after") or {}
            if "success" in after:
                row["eval/success"] = after["success"]
        else:
            row["status"] = "no run.json"
        rows.append(row)
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of the rows (columns in first-seen order)."""
    if not rows:
        return "(no jobs)\n"
    cols: list[str] = []
    for r in rows:
        cols.extend(k for k in r if k not in cols)

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return "" if v is None else str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def write_summary(sweep_dir: str | Path) -> str:
    """Write ``summary.md`` and ``summary.json`` in ``sweep_dir`` and return the table."""
    rows = collect_jobs(sweep_dir)
    table = format_table(rows)
    Path(sweep_dir, "summary.md").write_text(f"# Sweep summary\n\n{table}")
    Path(sweep_dir, "summary.json").write_text(json.dumps(rows, indent=2, default=str))
    return table


class SweepSummaryCallback(Callback):
    """Hydra callback (``hydra.callbacks.summary``) writing the sweep summary at the end of a multirun."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Tabulate every job under ``hydra.sweep.dir``."""
        sweep_dir = Path(config.hydra.sweep.dir)
        if sweep_dir.is_dir():
            table = write_summary(sweep_dir)
            print(f"\nSweep summary ({sweep_dir}/summary.md):\n{table}", flush=True)

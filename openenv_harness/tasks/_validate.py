"""``validate``: check a taskset end to end without starting anything.

What is checked, for every environment the reference selects (all of them when it names none):

* the manifest schema (errors name file, environment id and field);
* every declared split exists in the data and loads through ``datasets``;
* every hidden column exists in every split;
* every row turns into a :class:`Task` (``openenv_reset``/``task``/``openenv_step`` columns well-formed);
* no row's reset kwargs or step inputs contain its hidden values (:func:`check_no_leak`);
* task ids are unique within a split (warning);
* the runtime target: min_version, whether a package provides the environment here, trust needed, the
  Space URL, and which secrets are unset (warnings: validation does not run anything).

``python -m openenv_harness.tasks validate REF`` and ``python -m openenv_harness mode=validate
taskset.ref=REF`` print the report and exit 1 when there are errors.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import Version

from ._leak import check_no_leak
from ._manifest import EnvironmentEntry, ManifestError, load_manifest
from ._resolve import ResolvedTaskset, TasksetError, check_splits_exist, content_hash, locate, parse_ref
from ._runtime import SELF_DISTRIBUTION, _normalise, package_env, space_url
from ._source import TaskSource

_MAX_LISTED = 5


@dataclass
class Report:
    """Outcome of :func:`validate_taskset`.

    Attributes:
        ref: The reference validated.
        errors: Problems that make the taskset unusable.
        warnings: Problems that may matter at run time (not failures).
        info: Facts: revision, content hash, rows per split, runtime target per environment.
    """

    ref: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when there are no errors."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``ok``, ``errors``, ``warnings``, ``info``)."""
        return {
            "ref": self.ref,
            "ok": self.ok,
            "errors": self.errors,
            "warnings": self.warnings,
            "info": self.info,
        }

    def format(self) -> str:
        """A human-readable report."""
        lines = [f"taskset {self.ref}: {'OK' if self.ok else 'INVALID'}"]
        for key, value in self.info.items():
            lines.append(f"  {key}: {value}")
        lines += [f"  ERROR: {e}" for e in self.errors]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _check_runtime(entry: EnvironmentEntry, report: Report) -> str:
    block = entry.openenv
    from openenv_harness import __version__

    if Version(__version__) < Version(block.min_version):
        report.errors.append(
            f"{entry.id}: needs openenv_harness >= {block.min_version}, this is {__version__}"
        )
    unset = [n for n in block.secrets if not os.environ.get(n)]
    if unset:
        report.warnings.append(f"{entry.id}: secret(s) not set here: {', '.join(unset)}")
    if block.image:
        return f"image {block.image}"
    if block.space_id:
        return f"space {block.space_id} ({space_url(block.space_id)})"
    assert block.package is not None
    try:
        name = Requirement(block.package).name
    except InvalidRequirement as exc:
        report.errors.append(f"{entry.id}: frameworks.openenv.package: not a pip requirement: {exc}")
        return f"package {block.package} (invalid)"
    if _normalise(name) != SELF_DISTRIBUTION:
        report.warnings.append(
            f"{entry.id}: package {block.package!r} runs third-party code; it needs trust_remote_code=True"
        )
        return f"package {block.package} (not checked: untrusted)"
    try:
        env_id = package_env(entry, trust_remote_code=False, install=False)
    except TasksetError as exc:
        report.warnings.append(f"{entry.id}: {exc}")
        return f"package {block.package} (env not available here)"
    return f"package {block.package} env {env_id}"


def _check_rows(resolved: ResolvedTaskset, report: Report) -> None:
    entry = resolved.entry
    source = TaskSource(resolved)
    for split in entry.splits:
        rows = resolved.rows(split)
        report.info[f"{entry.id}.rows.{split}"] = len(rows)
        if len(rows) == 0:
            report.errors.append(f"{entry.id}: split {split!r} is empty")
            continue
        missing = [c for c in source.hidden_columns if c not in rows.column_names]
        if missing:
            report.errors.append(
                f"{entry.id}: hidden_columns {missing} not in split {split!r} (columns: {rows.column_names})"
            )
        leaks: list[str] = []
        ids: set[str] = set()
        dupes = 0
        for i in range(len(rows)):
            try:
                task = source.task_from_row(rows[i], split, i, i)
            except (TasksetError, ValueError) as exc:
                report.errors.append(f"{entry.id}: {split}[{i}]: {exc}")
                break
            dupes += task.task_id in ids
            ids.add(task.task_id)
            found = check_no_leak({"reset": task.reset_kwargs, "steps": task.step_inputs}, task.hidden)
            leaks += [f"{split}[{i}] ({task.task_id}) {f}" for f in found]
        if leaks:
            shown = "; ".join(leaks[:_MAX_LISTED]) + (
                f"; ... {len(leaks) - _MAX_LISTED} more" if len(leaks) > _MAX_LISTED else ""
            )
            report.errors.append(f"{entry.id}: ground truth visible to the agent: {shown}")
        if dupes:
            report.warnings.append(f"{entry.id}: {dupes} duplicate task_id(s) in split {split!r}")


def validate_taskset(ref: str) -> Report:
    """Validate a taskset reference (see the module docstring for what is checked).

    Args:
        ref: ``hf://datasets/...`` or a local folder (``#env_id`` optional).

    Returns:
        A :class:`Report`; ``report.ok`` is False when anything is broken.
    """
    report = Report(ref)
    try:
        parsed = parse_ref(ref)
        root, revision = locate(parsed)
        manifest = load_manifest(root)
        entries = [manifest.entry(parsed.env_id)] if parsed.env_id else manifest.environments
    except ManifestError as exc:
        report.errors += [str(i) for i in exc.issues]
        return report
    except (TasksetError, KeyError) as exc:
        report.errors.append(str(exc.args[0] if isinstance(exc, KeyError) else exc))
        return report
    report.info["revision"] = revision or "(local folder)"
    report.info["content_hash"] = content_hash(root)
    for entry in entries:
        report.info[f"{entry.id}.runtime"] = _check_runtime(entry, report)
        try:
            check_splits_exist(root, entry)
        except ManifestError as exc:
            report.errors += [str(i) for i in exc.issues]
            continue
        except TasksetError as exc:
            report.errors.append(str(exc))
            continue
        resolved = ResolvedTaskset(parsed, root, manifest, entry, revision, report.info["content_hash"])
        try:
            _check_rows(resolved, report)
        except Exception as exc:  # a broken data file must become a report line, not a traceback
            report.errors.append(f"{entry.id}: cannot load rows: {type(exc).__name__}: {exc}")
    return report


def main_validate(ref: str, out: TextIO | None = None, as_json: bool = False) -> int:
    """Print the validation report of ``ref``; return 0 when valid, 1 otherwise (for CLIs).

    Args:
        ref: Taskset reference.
        out: Stream to print to (stdout by default).
        as_json: Print one JSON object instead of the text report.
    """
    report = validate_taskset(ref)
    print(json.dumps(report.to_dict()) if as_json else report.format(), file=out or sys.stdout)
    return 0 if report.ok else 1

"""Compare a re-run with a stored bundle, field by field, and explain drift.

Results are flattened to dotted paths (``evals.arith.success_rate``, ``evals.arith.per_task.3.reward_mean``)
and compared with the suite's tolerance (0 = exact, the default for deterministic policies). Manifest identity
fields (dataset hashes, policy identity, environment source, judges, suite) are compared too, so a failing
verify names *what changed* beside *what moved*.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ._manifest import IDENTITY_FIELDS


@dataclass(frozen=True)
class Difference:
    """One differing field.

    Attributes:
        kind: ``result`` (a number or value moved) or ``identity`` (an input of the experiment changed).
        path: Dotted path of the field.
        stored: Value in the stored bundle.
        rerun: Value in the re-run.
    """

    kind: str
    path: str
    stored: Any
    rerun: Any


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts/lists into ``{dotted.path: leaf}``."""
    out: dict[str, Any] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.update(flatten(v, f"{prefix}{i}."))
    else:
        out[prefix[:-1]] = obj
    return out


def _differs(a: Any, b: Any, tolerance: float) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        if math.isnan(a) and math.isnan(b):
            return False
        return abs(float(a) - float(b)) > tolerance
    return bool(a != b)


def compare(
    stored_results: dict[str, Any],
    rerun_results: dict[str, Any],
    stored_manifest: dict[str, Any],
    rerun_manifest: dict[str, Any],
    *,
    tolerances: dict[str, float] | None = None,
) -> list[Difference]:
    """All differences between a stored bundle and a re-run.

    Args:
        stored_results: ``results.json`` of the bundle.
        rerun_results: ``results.json`` of the re-run.
        stored_manifest: ``manifest.json`` of the bundle.
        rerun_manifest: ``manifest.json`` of the re-run.
        tolerances: Per eval name, the allowed absolute drift of numeric result fields.

    Returns:
        Identity differences first, then result differences, each sorted by path.
    """
    tolerances = tolerances or {}
    diffs: list[Difference] = []
    for fieldname in IDENTITY_FIELDS:
        a = flatten(stored_manifest.get(fieldname), f"{fieldname}.")
        b = flatten(rerun_manifest.get(fieldname), f"{fieldname}.")
        for path in sorted(set(a) | set(b)):
            if a.get(path) != b.get(path):
                diffs.append(Difference("identity", path, a.get(path), b.get(path)))
    a = flatten(stored_results)
    b = flatten(rerun_results)
    for path in sorted(set(a) | set(b)):
        parts = path.split(".")
        tol = tolerances.get(parts[1], 0.0) if len(parts) > 1 and parts[0] == "evals" else 0.0
        if path not in a or path not in b or _differs(a[path], b[path], tol):
            diffs.append(Difference("result", path, a.get(path), b.get(path)))
    return diffs


def format_table(diffs: list[Difference], limit: int = 60) -> str:
    """A plain-text table of differences (first ``limit`` rows), or a one-line all-clear."""
    if not diffs:
        return "verify: no differences: the re-run reproduces the bundle"
    rows = [("kind", "field", "stored", "re-run")]
    rows += [(d.kind, d.path, _short(d.stored), _short(d.rerun)) for d in diffs[:limit]]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if len(diffs) > limit:
        lines.append(f"... and {len(diffs) - limit} more")
    return "\n".join(lines)


def _short(v: Any, width: int = 40) -> str:
    s = repr(v) if not isinstance(v, str) else v
    return s if len(s) <= width else s[: width - 3] + "..."

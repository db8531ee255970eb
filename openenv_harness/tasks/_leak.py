"""Check that ground truth never reaches what the agent sees.

:func:`check_no_leak` walks an observation (or reset kwargs, a tool result, an error body) recursively and
reports three kinds of leak:

* a key named like a hidden column (``answer``, ``test``) anywhere in the structure;
* a hidden value of at least ``min_len`` characters occurring as a substring of any string;
* a shorter hidden value (``"12"``) equal to a whole string leaf (after stripping). Substring search for
  short values would flag every question that happens to contain the digits of its answer.

Findings name the path and the hidden column, never the hidden value itself, so reports and error messages
are safe to log.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

DEFAULT_MIN_LEN = 8


def _leaves(value: Any, path: str) -> Iterator[tuple[str, Any, str | None]]:
    """Yield (path, leaf value, key) for every scalar; keys are yielded with a None leaf."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            yield sub, None, str(k)
            yield from _leaves(v, sub)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{path}[{i}]")
    elif hasattr(value, "model_dump"):  # pydantic models (observations)
        yield from _leaves(value.model_dump(mode="json"), path)
    else:
        yield path, value, None


def _hidden_strings(value: Any) -> list[str]:
    """Every non-empty string form of a hidden value (nested values are checked leaf by leaf)."""
    out = []
    for _, leaf, key in _leaves(value, ""):
        if key is None and leaf is not None and not isinstance(leaf, bool):
            s = str(leaf).strip()
            if s:
                out.append(s)
    return out


def check_no_leak(observed: Any, hidden: Mapping[str, Any], min_len: int = DEFAULT_MIN_LEN) -> list[str]:
    """Find ground-truth values in ``observed``.

    Args:
        observed: What the agent would see: a dict/list/pydantic model, nested arbitrarily.
        hidden: Hidden column name -> value (``Task.hidden``).
        min_len: Hidden strings at least this long are searched as substrings; shorter ones must not equal
            a whole string leaf.

    Returns:
        One message per finding (path and column name only); empty when nothing leaks.
    """
    needles = {col: _hidden_strings(v) for col, v in hidden.items()}
    findings: list[str] = []
    for path, leaf, key in _leaves(observed, ""):
        if key is not None:
            if key in hidden:
                findings.append(f"{path}: key named after hidden column {key!r}")
            continue
        if not isinstance(leaf, str):
            continue
        text = leaf.strip()
        for col, values in needles.items():
            for v in values:
                if (len(v) >= min_len and v in leaf) or (len(v) < min_len and v == text):
                    findings.append(f"{path or '<root>'}: contains the value of hidden column {col!r}")
                    break
    return findings


class LeakError(AssertionError):
    """Ground truth was found in something the agent would see."""


def assert_no_leak(observed: Any, hidden: Mapping[str, Any], min_len: int = DEFAULT_MIN_LEN) -> None:
    """Raise :class:`LeakError` listing the findings of :func:`check_no_leak`, if any."""
    findings = check_no_leak(observed, hidden, min_len)
    if findings:
        raise LeakError("ground truth visible to the agent:\n" + "\n".join(f"  - {f}" for f in findings))

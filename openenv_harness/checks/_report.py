"""The outcome of a conformance check: one line per check, pass / fail / skipped, with the reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class CheckResult:
    """One check.

    Attributes:
        name: Short id of the check (e.g. ``seed_determinism``).
        status: ``pass``, ``fail`` or ``skip``.
        detail: What was checked, or why it failed / was skipped.
    """

    name: str
    status: Status
    detail: str = ""


class ConformanceError(AssertionError):
    """Raised by :meth:`CheckReport.raise_for_failures` (lists every failed check)."""


@dataclass
class CheckReport:
    """Every check run against one environment target.

    Attributes:
        target: Description of what was checked (class name, client URL).
        results: The checks, in the order they ran.
    """

    target: str
    results: list[CheckResult] = field(default_factory=list)

    def add(self, name: str, status: Status, detail: str = "") -> None:
        """Record one check."""
        self.results.append(CheckResult(name, status, detail))

    @property
    def ok(self) -> bool:
        """True when no check failed (skips are allowed)."""
        return not self.failures

    @property
    def failures(self) -> list[CheckResult]:
        """The failed checks."""
        return [r for r in self.results if r.status == "fail"]

    def status_of(self, name: str) -> Status | None:
        """Status of the check named ``name`` (None if it did not run)."""
        for r in self.results:
            if r.name == name:
                return r.status
        return None

    def raise_for_failures(self) -> None:
        """Raise :class:`ConformanceError` listing every failure, if any."""
        if self.failures:
            lines = "\n".join(f"  {r.name}: {r.detail}" for r in self.failures)
            raise ConformanceError(f"{self.target} fails {len(self.failures)} conformance check(s):\n{lines}")

    def __str__(self) -> str:
        width = max((len(r.name) for r in self.results), default=4)
        rows = [f"check_env({self.target})"]
        rows += [f"  {r.status.upper():4}  {r.name:<{width}}  {r.detail}" for r in self.results]
        return "\n".join(rows)

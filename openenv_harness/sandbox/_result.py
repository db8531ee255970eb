"""What one sandboxed execution returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ExecResult:
    """Outcome of running one program in a sandbox.

    Attributes:
        stdout: Captured standard output (decoded as UTF-8 with replacement), at most the output cap.
        stderr: Captured standard error, at most the output cap.
        exit_code: The program's exit status; negative for "killed by signal N" (``-9`` after a timeout).
        timed_out: True when the wall-clock limit was hit and the process group was killed.
        truncated: True when either stream was longer than the cap (the rest was discarded).
        output_flood: True when the program was killed for producing far more output than the cap.
        duration_s: Wall time from spawn to reap, in seconds.
        restarted: A session's interpreter had to be restarted (it crashed, exited or would not stop
            after a timeout): its state (variables, imports, working directory) is lost.
        note: What happened beyond the exit code, in one sentence for the agent (e.g. the restart).
    """

    stdout: str
    stderr: str
    exit_code: int
    timed_out: bool
    truncated: bool
    duration_s: float
    output_flood: bool = False
    restarted: bool = False
    note: str = ""

    @property
    def ok(self) -> bool:
        """True when the program exited with status 0 within its limits."""
        return self.exit_code == 0 and not self.timed_out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict of every field."""
        return asdict(self)

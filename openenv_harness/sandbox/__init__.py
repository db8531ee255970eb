r"""Run untrusted Python or bash programs: bubblewrap isolation, rlimits, wall-clock limits, capped output.

Framework-level so any environment can reuse it::

    from openenv_harness.sandbox import Sandbox, SandboxConfig

    with Sandbox(SandboxConfig(mode="bwrap")) as sb:
        result = sb.run("print(1)")          # ExecResult(stdout='1\\n', exit_code=0, ...)
        sb.run("echo hi > f.txt", "bash")    # files persist in the work dir until close()

See :mod:`openenv_harness.sandbox._bwrap` for what a program can see and which identity it runs as.
"""

from ._aexec import arun_capped
from ._bwrap import WORKSPACE, bwrap_problem
from ._exec import run_capped
from ._limits import SandboxLimits
from ._result import ExecResult
from ._sandbox import (
    MAX_CODE_BYTES,
    Language,
    Sandbox,
    SandboxConfig,
    SandboxMode,
    SandboxUnavailable,
    sandbox_problem,
)
from ._uids import UidLease, UidPool, UidPoolExhausted, default_pool

__all__ = [
    "MAX_CODE_BYTES",
    "WORKSPACE",
    "ExecResult",
    "Language",
    "Sandbox",
    "SandboxConfig",
    "SandboxLimits",
    "SandboxMode",
    "SandboxUnavailable",
    "UidLease",
    "UidPool",
    "UidPoolExhausted",
    "arun_capped",
    "bwrap_problem",
    "default_pool",
    "run_capped",
    "sandbox_problem",
]

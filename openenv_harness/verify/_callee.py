"""The program that runs inside the sandbox: load the submission, call it on each case's arguments, report.

It reads ``{code, prelude, entry_point, units: [[args, ...], ...], unit_timeout_s}`` on stdin (arguments
only: expected values never enter the sandbox) and writes one JSON line per call on a private copy of its
stdout: ``[unit, case, "r", value]`` (returned; ``value`` in the plain-data wire form), ``[unit, case,
"x", exception type name]``, ``[unit, case, "n", type name]`` (returned something that is not plain data)
or ``[unit, case, "t"]`` (the unit ran out of time); first a ``{"load": {...}}`` line; at the end all
of them once more, then ``os._exit``. The submission's own
stdout and stderr go to ``/dev/null``.

Nothing here is trusted: the submission shares this process and may rewrite any of it. What makes the
verdict trustworthy is on the grader's side (:mod:`._calls`): it decodes strictly and compares there.
"""

from __future__ import annotations

import inspect

from . import _plain

_MAIN = r"""
import os as _os, signal as _signal, sys as _sys


def _main():
    spec = json.loads(_sys.stdin.read())
    _exit = _os._exit
    results = []
    out = _os.dup(1)
    null = _os.open(_os.devnull, _os.O_RDWR)
    for fd in (0, 1, 2):
        _os.dup2(null, fd)

    def emit(obj, keep=True):
        if keep and isinstance(obj, list):
            results.append(obj)
        data = memoryview((json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n").encode())
        while data:
            data = data[_os.write(out, data):]

    class _Timeout(BaseException):
        pass

    def _alarm(signum, frame):
        raise _Timeout()

    _signal.signal(_signal.SIGALRM, _alarm)
    budget = float(spec["unit_timeout_s"])

    def timed(code, ns):
        _signal.setitimer(_signal.ITIMER_REAL, budget)
        try:
            exec(code, ns)
            return None
        except BaseException as exc:
            return "Timeout" if isinstance(exc, _Timeout) else type(exc).__name__
        finally:
            _signal.setitimer(_signal.ITIMER_REAL, 0)

    load = {"defines": False, "error": None}
    try:
        code = compile(spec["code"], "<solution>", "exec")
    except BaseException as exc:
        load["error"] = "does not compile: " + type(exc).__name__
        emit({"load": load})
        return
    ns = {"__name__": "__solution__"}
    if spec.get("prelude"):
        timed(compile(spec["prelude"], "<prompt>", "exec"), ns)
    before = ns.get(spec["entry_point"])
    err = timed(code, ns)
    if err is not None:
        load["error"] = "solution raised " + err + " while loading"
    cand = ns.get(spec["entry_point"])
    load["defines"] = callable(cand) and cand is not before
    emit({"load": load})
    for u, unit in enumerate(spec["units"]):
        c = 0
        _signal.setitimer(_signal.ITIMER_REAL, budget)
        try:
            for c, args in enumerate(unit):
                try:
                    value = cand(*decode(args))
                except _Timeout:
                    raise
                except BaseException as exc:
                    emit([u, c, "x", type(exc).__name__])
                    continue
                try:
                    wire = encode(value)
                except _Timeout:
                    raise
                except BaseException:
                    emit([u, c, "n", type(value).__name__])
                    continue
                emit([u, c, "r", wire])
        except _Timeout:
            emit([u, c, "t"])
        finally:
            _signal.setitimer(_signal.ITIMER_REAL, 0)
    # Everything once more, last, then exit at once (no atexit hooks, no other thread gets to write
    # after it): the grader keeps the last line per call, so lines a submission wrote earlier lose.
    emit({"load": load}, False)
    for line in list(results):
        emit(line, False)
    _exit(0)


_main()
"""


def callee_program() -> str:
    """The callee's full source: the plain-data codec of :mod:`._plain`, then the main loop."""
    return inspect.getsource(_plain) + _MAIN

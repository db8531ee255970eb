"""The two session interpreters: a small Python REPL and a bash loop, each reading cells from stdin.

Why not a Jupyter kernel: ``ipykernel`` driven by ``jupyter_client`` was built and measured first (same
sandbox, Unix-socket transport): a warm ``print(1)`` cell took 8-11 ms p50 on this 2-core machine under
load (IPython's ``run_cell`` and the IOPub thread cost several ms per cell, whatever the cell), a kernel
took 2-3 s to start, and it needed ~35 packages (IPython, ZeroMQ, tornado, jedi, debugpy, ...) visible
inside the sandbox. The target is < 5 ms, and every visible package is attack surface, so the Python
interpreter is this ~40-line stdlib loop instead (``-I -S`` like every sandboxed program): it starts in
tens of milliseconds and a cell costs well under a millisecond of overhead. It keeps what mattered from
a kernel: one namespace across cells, ``KeyboardInterrupt`` on SIGINT only while a cell runs, a
traceback on error, and the value of a trailing expression printed as in a REPL.

Protocol (host side in :mod:`._pipes`): Python cells are length-prefixed UTF-8 (8 hex digits); bash cells
are NUL-terminated (programs cannot contain NUL). ``sys.exit(n)`` / ``exit n`` inside a cell: in Python
it ends the cell with status ``n`` and keeps the state; in bash it ends the shell (a restart, as a crash).
"""

from __future__ import annotations

from ._pipes import PipeSession

_PY_REPL = r"""
import ast, os, signal, sys, traceback
MARK = sys.argv[1].encode()
ctl = os.fdopen(os.dup(0), "rb", buffering=0)
null = os.open(os.devnull, os.O_RDONLY)
os.dup2(null, 0)
sys.stdin = open(os.devnull)
ns = {"__name__": "__main__", "__builtins__": __builtins__}
signal.signal(signal.SIGINT, signal.SIG_IGN)

def read(n):
    data = b""
    while len(data) < n:
        chunk = ctl.read(n - len(data))
        if not chunk:
            os._exit(0)
        data += chunk
    return data

def cell(source):
    tree = ast.parse(source, "<cell>", "exec")
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<cell>", "exec"), ns)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), ns)
        if value is not None:
            print(repr(value))

while True:
    try:
        source = read(int(read(8), 16)).decode("utf-8", "replace")
        status = 0
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            cell(source)
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException as exc:
            tb = exc.__traceback__
            while tb is not None and tb.tb_frame.f_code.co_filename != "<cell>":
                tb = tb.tb_next  # the REPL's own frames are noise to the agent
            traceback.print_exception(type(exc), exc, tb or exc.__traceback__)
            status = 1
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    except KeyboardInterrupt:  # a late interrupt, between cells
        status = 130
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    line = MARK + str(status).encode() + b"\n"
    os.write(1, line)
    os.write(2, line)
"""

_BASH_LOOP = r"""
__mark=$1
__run() { trap 'trap - INT; return 130' INT; eval "$1"; local __rc=$?; trap - INT; return $__rc; }
trap '' INT
while IFS= read -r -d '' __cell; do
  __run "$__cell" </dev/null
  __rc=$?
  printf '%s%d\n' "$__mark" "$__rc"
  printf '%s%d\n' "$__mark" "$__rc" >&2
done
"""


class PythonSession(PipeSession):
    """A persistent Python namespace in the sandbox (see the module docstring)."""

    language = "python"

    def _command(self, marker: str) -> list[str]:
        flags = ["-I"] if self.sandbox.config.python_site else ["-I", "-S"]
        return [self.sandbox.python, *flags, "-u", "-c", _PY_REPL, marker]

    def _frame(self, code: str) -> bytes:
        data = code.encode("utf-8", "surrogatepass")
        return f"{len(data):08x}".encode() + data


class BashSession(PipeSession):
    """A persistent bash shell in the sandbox: variables, functions, ``cd`` and ``export`` persist."""

    language = "bash"

    def _command(self, marker: str) -> list[str]:
        return ["/bin/bash", "--noprofile", "--norc", "-c", _BASH_LOOP, "bash", marker]

    def _frame(self, code: str) -> bytes:
        return code.encode("utf-8", "surrogatepass") + b"\0"

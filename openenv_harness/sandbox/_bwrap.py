"""The bubblewrap command line: what a sandboxed program sees and which identity it runs as.

Layout inside the sandbox:

- ``/usr`` read-only, with the usual ``/bin``, ``/lib``, ``/lib64``, ``/sbin`` symlinks, and the dynamic
  loader's ``/etc/ld.so.cache``; nothing else of the host's root (no other ``/etc``, no ``/home``,
  ``/root``, ``/work``, host ``/tmp``).
- The Python installation (``sys.base_prefix``) read-only at the same path, its ``site-packages`` hidden
  except for an allow-list of packages, and a few trees of ``/usr`` hidden (see :mod:`._mounts`). A pyenv Python lives under
  ``/root`` (mode 0700); bwrap would create the missing parents 0700, which the dropped uid could not
  traverse, so they are created explicitly with mode 0755.
- A fresh tmpfs ``/tmp``, a new ``/proc`` and a minimal ``/dev``.
- The episode's work dir (a host temp dir, a size-capped tmpfs where possible, owned by the leased uid) at
  ``/workspace``, the current directory.

Identity: bwrap runs *without* a user namespace (namespaces: ipc, pid, net, uts, cgroup). ``--unshare-all``
is deliberately not used: it also tries a user namespace, inside which the program is still root as seen
by the host, so ``RLIMIT_NPROC`` does not apply and a fork bomb is not contained. Instead ``setpriv`` drops
to the leased unprivileged uid/gid with no supplementary groups, ``no_new_privs`` and an empty capability
bounding set. The rlimits are set by ``prlimit`` before bwrap starts, and are inherited.

This needs root on the host (bwrap without a user namespace needs ``CAP_SYS_ADMIN``);
:func:`bwrap_problem` says why the sandbox cannot run when it cannot.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ._limits import SandboxLimits
from ._mounts import mount_args

WORKSPACE = "/workspace"
_NAMESPACE_FLAGS = [
    "--unshare-ipc",
    "--unshare-pid",
    "--unshare-net",
    "--unshare-uts",
    "--unshare-cgroup-try",
]


def python_prefix() -> str:
    """The Python installation to expose inside the sandbox (the interpreter running us)."""
    return os.path.realpath(sys.base_prefix)


def python_executable() -> str:
    """Path of a ``python3`` binary of :func:`python_prefix` (same path inside and outside)."""
    prefix = python_prefix()
    for name in (f"python{sys.version_info.major}.{sys.version_info.minor}", "python3"):
        candidate = os.path.join(prefix, "bin", name)
        if os.path.exists(candidate):
            return candidate
    return os.path.realpath(sys.executable)


@functools.cache
def _tool(name: str) -> str:
    """Absolute path of a host tool (the bare name when it is not on PATH: the exec then fails loudly)."""
    return shutil.which(name) or name


def _parent_dirs(path: str) -> list[str]:
    """Ancestors of ``path`` below ``/``, outermost first (``/a/b/c`` -> ``/a``, ``/a/b``)."""
    parts = Path(path).parts[1:-1]
    return [os.path.join("/", *parts[: i + 1]) for i in range(len(parts))]


def bwrap_argv(
    work_dir: str,
    uid: int,
    limits: SandboxLimits,
    command: list[str],
    *,
    packages: tuple[str, ...] = (),
    binds: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> list[str]:
    """The full ``prlimit ... bwrap ... setpriv ... command`` argv.

    Args:
        work_dir: Host directory bound read-write at ``/workspace``.
        uid: Unprivileged uid (and gid) the program runs as.
        limits: rlimits to apply.
        command: The program and its arguments, as seen inside the sandbox.
        packages: Installed distributions to expose (with their dependencies); every other third-party
            package is hidden (see :mod:`._mounts`).
        binds: Host directories bound read-write at the same path (e.g. a kernel's socket directory).
        env: Extra environment variables for the program.
    """
    # Absolute tool paths: each exec in the chain would otherwise search PATH (measurable per run).
    argv = [_tool("prlimit"), *limits.prlimit_args(), _tool("bwrap"), *_NAMESPACE_FLAGS]
    argv += ["--die-with-parent", "--new-session", "--hostname", "sandbox"]
    argv += ["--ro-bind", "/usr", "/usr"]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = f"/{link}"
        if os.path.islink(target):
            argv += ["--symlink", os.readlink(target).lstrip("/"), target]
        elif os.path.isdir(target):
            argv += ["--ro-bind", target, target]
    prefix = python_prefix()
    if not prefix.startswith("/usr/"):
        for parent in _parent_dirs(prefix):
            argv += ["--perms", "0755", "--dir", parent]
        argv += ["--ro-bind", prefix, prefix]
    argv += mount_args(packages)
    if os.path.exists("/etc/ld.so.cache"):
        # The loader's cache (library paths only): without it every exec probes each library directory.
        argv += ["--perms", "0755", "--dir", "/etc", "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for path in binds:
        argv += ["--bind", path, path]
    argv += ["--bind", work_dir, WORKSPACE, "--chdir", WORKSPACE]
    argv += ["--clearenv"]
    for key, value in {**sandbox_env(prefix), **(env or {})}.items():
        argv += ["--setenv", key, value]
    argv += [
        _tool("setpriv"),
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--no-new-privs",
        "--bounding-set=-all",
        "--inh-caps=-all",
        "--",
        *command,
    ]
    return argv


def sandbox_env(prefix: str) -> dict[str, str]:
    """The only environment variables a sandboxed program gets (nothing of the host's leaks in)."""
    return {
        "PATH": f"{prefix}/bin:/usr/local/bin:/usr/bin:/bin",
        "HOME": WORKSPACE,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


@functools.lru_cache(maxsize=1)
def bwrap_problem() -> str | None:
    """Why the bubblewrap sandbox cannot run here, or None when it can (probed once per process)."""
    missing = [tool for tool in ("bwrap", "setpriv", "prlimit") if shutil.which(tool) is None]
    if missing:
        return f"missing tool(s) on PATH: {', '.join(missing)} (install bubblewrap and util-linux)"
    if os.geteuid() != 0:
        return (
            "the bwrap sandbox drops to a per-sandbox uid with setpriv and needs to run as root (without a "
            "user namespace, so that RLIMIT_NPROC contains fork bombs)"
        )
    import tempfile

    with tempfile.TemporaryDirectory(prefix="openenv-sbx-probe-") as tmp:
        os.chown(tmp, 65534, 65534)
        argv = bwrap_argv(tmp, 65534, SandboxLimits(), ["true"])
        try:
            proc = subprocess.run(argv, capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bwrap probe failed: {exc}"
    if proc.returncode != 0:
        return f"bwrap probe exited {proc.returncode}: {proc.stderr.decode(errors='replace').strip()[:300]}"
    return None

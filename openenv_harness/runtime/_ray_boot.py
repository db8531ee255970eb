"""Ray for the ``ray`` provider: imported lazily, started locally or joined, kept on loopback.

* ``address=None`` (or ``local``) starts a private Ray instance for this process (no dashboard, a small object
  store: env servers pass nothing through it, its own temp dir, a watchdog for a SIGKILLed harness) and shuts
  it down again; ``auto`` or ``HOST:PORT`` joins an existing cluster and leaves it running. A process that
  already called ``ray.init`` keeps its connection.
* **Loopback.** Ray rewrites ``127.0.0.1`` in a bootstrap address (and in ``_node_ip_address``) into the
  machine's outward address, so ``ray.init(_node_ip_address="127.0.0.1")`` alone still binds the machine's
  network interface. Ray's switch for single-machine clusters (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``,
  meant for laptops) makes it resolve the local node to ``127.0.0.1``: it is set for a local instance and
  for loopback addresses (``loopback=None``), so every Ray socket of such a run stays on 127.0.0.1.
  Pass ``loopback=False`` to join a real cluster with ``address=auto``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from types import ModuleType
from typing import Any

SINGLE_MACHINE_VAR = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
"""Ray's switch: ``0`` resolves this node's address to the loopback address."""

LOCAL_OBJECT_STORE_BYTES = 128 * 1024 * 1024
"""Object store of a local instance: env servers exchange nothing through it."""

_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


MISSING = "runtime.provider=ray needs Ray, which is not installed: pip install 'openenv-harness[ray]'"


def require_ray() -> None:
    """Fail at once, without importing Ray (slow), when it is not installed.

    Raises:
        ConfigError: one line naming the extra (the CLI prints it as ``error: ...``).
    """
    try:
        found = importlib.util.find_spec("ray") is not None
    except ValueError:  # a ray module without a spec (stubbed out)
        found = False
    if not found:
        from ..config import ConfigError

        raise ConfigError(MISSING)


def import_ray() -> ModuleType:
    """``import ray``, or a one-line :class:`~openenv_harness.config.ConfigError` naming the extra."""
    try:
        import ray
    except ImportError:
        from ..config import ConfigError

        raise ConfigError(MISSING) from None
    return ray


def wants_loopback(address: str | None, loopback: bool | None = None) -> bool:
    """Whether this run keeps Ray on 127.0.0.1 (see the module docstring)."""
    if loopback is not None:
        return loopback
    if address in (None, "", "local", "auto"):
        return True
    host = str(address).split("://", 1)[-1].rsplit(":", 1)[0]
    return host in _LOOPBACK_HOSTS


def pin_loopback() -> None:
    """Make Ray resolve this node to 127.0.0.1, before or after ``import ray``.

    The variable reaches the Ray processes this one starts; the module constant covers a ``ray`` that was
    imported before the variable was set (Ray reads it at import).
    """
    os.environ[SINGLE_MACHINE_VAR] = "0"
    import ray._private.ray_constants as constants

    constants.ENABLE_RAY_CLUSTER = False


class LocalInstance:
    """The Ray connection this process's providers made, shared and shut down when the last one is done.

    Two runtimes of one run (a mixture's envs, training beside an in-training eval) share it; each holds a
    :class:`Lease`, and ``ray.shutdown()`` waits for the last lease to close.

    Args:
        temp_dir: The local instance's private temp dir (None when a cluster was joined).
        reaper: Its watchdog process (see :mod:`openenv_harness.runtime._ray_reaper`).
    """

    def __init__(self, temp_dir: str | None = None, reaper: subprocess.Popen[bytes] | None = None) -> None:
        self.temp_dir = temp_dir
        self.reaper = reaper
        self.leases = 0

    def shutdown(self) -> None:
        """``ray.shutdown()``, then stop the watchdog and remove the temp dir (idempotent)."""
        import ray

        ray.shutdown()
        if self.reaper is not None:
            self.reaper.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.reaper.wait(5)
            self.reaper = None
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
            self.temp_dir = None


class Lease:
    """One provider's use of :class:`LocalInstance`; :meth:`close` once (idempotent)."""

    def __init__(self, instance: LocalInstance) -> None:
        self.instance: LocalInstance | None = instance
        self.local = instance.temp_dir is not None

    def close(self) -> None:
        """Give the connection back; the last lease shuts Ray down."""
        global _made
        with _lock:
            instance, self.instance = self.instance, None
            if instance is None:
                return
            instance.leases -= 1
            if instance.leases > 0:
                return
            if _made is instance:
                _made = None
        instance.shutdown()


_lock = threading.Lock()
_made: LocalInstance | None = None
"""The connection this process's providers made (None: none, or Ray was connected by someone else)."""


def _start_reaper(temp_dir: str) -> subprocess.Popen[bytes]:
    from . import _ray_reaper

    return subprocess.Popen(
        [sys.executable, _ray_reaper.__file__, str(os.getpid()), temp_dir],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C of the harness must not take the watchdog down first
    )


def connect(
    address: str | None = None,
    *,
    loopback: bool | None = None,
    namespace: str | None = None,
    init_kwargs: dict[str, Any] | None = None,
) -> Lease | None:
    """Connect this process to Ray: a new local instance, or the cluster at ``address``.

    A local instance gets a private temp dir (its files, and the address file ``address=auto`` reads, stay out
    of other Ray users' way) and a watchdog that removes what is left of it if this process dies unstopped.
    A connection a provider of this process made already is shared (a new lease on it).

    Args:
        address: None/``local`` (start a local instance), ``auto`` or ``HOST:PORT`` (join).
        loopback: Keep Ray on 127.0.0.1 (None: for a local instance and loopback addresses).
        namespace: Ray namespace of this job.
        init_kwargs: Extra ``ray.init`` arguments (e.g. ``num_cpus`` of a local instance).

    Returns:
        A lease to close when done, or None when the process was connected by someone else (not ours to
        shut down).
    """
    global _made
    ray = import_ray()
    with _lock:
        if ray.is_initialized():
            if _made is None:
                return None
            _made.leases += 1
            return Lease(_made)
        local = address in (None, "", "local")
        kwargs: dict[str, Any] = {
            "include_dashboard": False,
            "logging_level": logging.WARNING,
            # Replicas' output stays in Ray's session logs (a dying node would otherwise dump its raylet's
            # state into the harness's output); a replica that fails to start raises with its error instead.
            "log_to_driver": False,
            "namespace": namespace,
        }
        if wants_loopback(address, loopback):
            pin_loopback()
            kwargs["_node_ip_address"] = "127.0.0.1"
        instance = LocalInstance()
        if local:
            instance.temp_dir = tempfile.mkdtemp(prefix="oh-ray-")
            instance.reaper = _start_reaper(instance.temp_dir)
            kwargs.update(
                address="local", object_store_memory=LOCAL_OBJECT_STORE_BYTES, _temp_dir=instance.temp_dir
            )
        else:
            kwargs["address"] = str(address)
        kwargs.update(init_kwargs or {})
        try:
            ray.init(**kwargs)
        except BaseException:
            instance.shutdown()
            raise
        instance.leases = 1
        _made = instance
        return Lease(instance)

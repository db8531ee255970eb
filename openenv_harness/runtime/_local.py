"""Env servers as local subprocesses (``python -m openenv_harness.server``) on free loopback ports.

Each server runs in its own process group, so :meth:`LocalProcessProvider.stop` (also run at interpreter exit
and when :meth:`~LocalProcessProvider.start` fails) takes down the server and anything it spawned. A server's
stdout and stderr go to a log file, never to a pipe nobody reads (a full pipe would block the server); the
``LISTENING http://HOST:PORT`` line the server prints is read from that file, and its last lines are quoted
when a server dies.

Crashes. :meth:`~LocalProcessProvider.crashed` lists servers whose process has exited. With
``restart_crashed=True`` (the default) a dead server is restarted, on the same port when it is still free,
the next time a client is handed to it or reconnects to it, or a config is pushed or read. Before it is
handed out it is sent the merged config updates its predecessor had been pushed
(:attr:`~openenv_harness.runtime.Provider.config_sent`): a restart never silently reverts reward weights to the
env's defaults (its ``config_version`` does restart from 1). A client whose server died mid-episode gets
``CONNECTION_LOST`` for that episode; its next ``reset`` reconnects (to the restarted server or another one of
the pool) and works: that is what "recovers" means here. Episodes are never migrated: their state died with
the process.

Secrets. ``env_vars`` (e.g. a taskset's secret values) reach each server through its process environment only:
never the command line (which ``ps`` shows), never a log line or an error message of this module (those name
the variables at most).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ..client import ControlAPI
from ..client._control import shared_ssl_context
from ..spec import EnvError, ErrorCode
from ._provider import TOKEN_VAR, Provider, track_live

_LISTENING = re.compile(r"LISTENING (http://\S+)")


@dataclass
class _Server:
    index: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    url: str = ""
    port: int = 0
    restarts: int = 0

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.strip().splitlines()[-lines:]) or "(empty log)"

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def kill(self, grace_s: float = 3.0) -> None:
        """SIGTERM the process group, SIGKILL it after ``grace_s``."""
        _kill_all([self], grace_s)


def _kill_all(servers: list[_Server], grace_s: float) -> None:
    """SIGTERM every server's group at once (graceful shutdown), SIGKILL whatever is left after ``grace_s``."""
    for server in servers:
        if server.alive():
            server.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for server in servers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.proc.wait(max(0.0, deadline - time.monotonic()))
    for server in servers:
        server.signal_group(signal.SIGKILL)  # children the server spawned may outlive it: kill the group
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.proc.wait(grace_s)


def _check_env_vars(env_vars: Mapping[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in (env_vars or {}).items():
        if not isinstance(name, str) or not name or "=" in name or "\0" in name:
            raise ValueError(f"env_vars: invalid environment variable name {name!r}")
        if not isinstance(value, str) or "\0" in value:
            # The value is not quoted: it may be a secret.
            raise ValueError(
                f"env_vars[{name!r}] must be a string without NUL bytes, got {type(value).__name__}"
            )
        if name in (TOKEN_VAR, "PYTHONUNBUFFERED"):
            raise ValueError(f"env_vars: {name} is set by the provider itself (pass the token as token=...)")
        out[name] = value
    return out


class LocalProcessProvider(Provider):
    """Run ``n_servers`` env servers as subprocesses on 127.0.0.1.

    Args:
        env: Registered environment id.
        n_servers: Number of server processes.
        env_kwargs: Environment constructor arguments (JSON-serialisable).
        max_sessions: Session cap per server.
        idle_timeout_s: Idle-session reaper timeout per server.
        token: Orchestrator token the servers require for ``GET``/``POST /config`` (and clients send).
        host: Interface to bind (loopback unless you mean otherwise).
        server_args: Extra command-line arguments for the server.
        startup_timeout_s: Time for every server to print its address and answer ``/health``.
        restart_crashed: Restart a dead server when a client is next handed to it.
        python: Interpreter to run the servers with.
        env_vars: Extra environment variables for every server process (secret values welcome: they are
            passed in the process environment only, never on the command line or in logs and errors).

    Raises:
        ValueError: bad ``n_servers``, ``env_kwargs`` that are not JSON, or ``env_vars`` that are not
            ``str -> str`` with valid names (the message names the variable, never its value).
    """

    def __init__(
        self,
        env: str,
        n_servers: int = 1,
        env_kwargs: dict[str, Any] | None = None,
        max_sessions: int = 1024,
        idle_timeout_s: float = 300.0,
        token: str | None = None,
        host: str = "127.0.0.1",
        server_args: Sequence[str] = (),
        startup_timeout_s: float = 30.0,
        restart_crashed: bool = True,
        python: str = sys.executable,
        env_vars: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(env_id=env, token=token)
        if n_servers < 1:
            raise ValueError(f"n_servers must be >= 1, got {n_servers}")
        self.env = env
        self.n_servers = n_servers
        self.env_kwargs = dict(env_kwargs or {})
        json.dumps(self.env_kwargs)  # fail here, not in a child process, if it cannot be passed on
        self.max_sessions = max_sessions
        self.idle_timeout_s = idle_timeout_s
        self.host = host
        self.server_args = list(server_args)
        self.startup_timeout_s = startup_timeout_s
        self.restart_crashed = restart_crashed
        self.python = python
        # Private, and never part of a message: values may be secrets. Names are fine to show.
        self._env_vars = _check_env_vars(env_vars)
        self._servers: list[_Server] = []
        self._logdir: str | None = None
        self._restart_lock = threading.Lock()
        self._spawns = 0
        self._restart_count = 0

    @property
    def env_var_names(self) -> list[str]:
        """Names of the extra variables the servers get (the values are not exposed)."""
        return sorted(self._env_vars)

    # -- processes ------------------------------------------------------------------------------------------

    def _command(self, port: int) -> list[str]:
        cmd = [self.python, "-m", "openenv_harness.server", "--env", self.env]
        cmd += ["--host", self.host, "--port", str(port)]
        cmd += ["--max-sessions", str(self.max_sessions), "--idle-timeout-s", str(self.idle_timeout_s)]
        cmd += ["--parent-pid", str(os.getpid())]  # servers exit if we are SIGKILLed (no atexit then)
        if self.env_kwargs:
            cmd += ["--env-kwargs", json.dumps(self.env_kwargs)]
        if self.token:
            cmd += ["--token-env", TOKEN_VAR]
        return cmd + self.server_args

    def _spawn(self, index: int, port: int = 0) -> _Server:
        assert self._logdir is not None
        # A fresh file per spawn: a restarted server must not be taken for listening on its predecessor's line.
        self._spawns += 1
        log_path = Path(self._logdir) / f"server-{index}.{self._spawns}.log"
        env = dict(os.environ, **self._env_vars, PYTHONUNBUFFERED="1")
        if self.token:
            env[TOKEN_VAR] = self.token  # not on the command line, where `ps` would show it
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                self._command(port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # own process group: stop() kills the whole tree
            )
        return _Server(index=index, proc=proc, log_path=log_path)

    def _await_listening(self, server: _Server, deadline: float) -> None:
        while True:
            try:
                match = _LISTENING.search(server.log_path.read_text(errors="replace"))
            except OSError:
                match = None
            if match:
                server.url = match.group(1).rstrip("/")
                server.port = int(server.url.rsplit(":", 1)[1])
                return
            if not server.alive():
                raise RuntimeError(
                    f"server {server.index} ({self.env}) exited with code {server.proc.returncode} before "
                    f"listening; last log lines:\n{server.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"server {server.index} ({self.env}) printed no LISTENING line within "
                    f"{self.startup_timeout_s}s; last log lines:\n{server.log_tail()}"
                )
            time.sleep(0.02)

    def start(self) -> list[str]:
        """Spawn the servers (concurrently), read their addresses and wait for ``/health``.

        Raises:
            RuntimeError: a server exited or did not come up in time (with its last log lines); everything
                started so far has been stopped.
        """
        if self._servers:
            return self.urls
        self._logdir = tempfile.mkdtemp(prefix=f"openenv-{self.env}-")
        track_live(self, True)
        try:
            self._servers = [self._spawn(i) for i in range(self.n_servers)]
            deadline = time.monotonic() + self.startup_timeout_s
            for server in self._servers:
                self._await_listening(server, deadline)
            self._urls = [s.url for s in self._servers]
            self.wait_healthy(max(1.0, deadline - time.monotonic()))
        except BaseException:
            self.stop()
            raise
        return self.urls

    def wait_healthy(self, timeout_s: float = 30.0) -> None:
        """Block until every server answers ``GET /health`` (a dead server fails at once, with its log)."""
        self._wait_servers(self._servers, timeout_s)

    @staticmethod
    def _wait_servers(servers: list[_Server], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        pending = list(servers)
        with httpx.Client(timeout=2.0, trust_env=False, verify=shared_ssl_context()) as http:
            while pending:
                for server in list(pending):
                    if not server.alive():
                        raise RuntimeError(
                            f"server {server.index} ({server.url}) exited with code {server.proc.returncode}; "
                            f"last log lines:\n{server.log_tail()}"
                        )
                    with contextlib.suppress(httpx.HTTPError):
                        if http.get(f"{server.url}/health").status_code == 200:
                            pending.remove(server)
                if pending and time.monotonic() > deadline:
                    raise RuntimeError(
                        f"not healthy after {timeout_s:.1f}s: {', '.join(s.url for s in pending)}; last log "
                        f"lines of the first:\n{pending[0].log_tail()}"
                    )
                if pending:
                    time.sleep(0.02)

    # -- crashes --------------------------------------------------------------------------------------------

    @property
    def pids(self) -> list[int]:
        """Process ids of the servers (each also its process group id)."""
        return [s.proc.pid for s in self._servers]

    def crashed(self) -> list[int]:
        """Indices of servers whose process has exited."""
        return [s.index for s in self._servers if not s.alive()]

    def restart(self, index: int) -> str:
        """Restart server ``index`` (killing what is left of it), on its old port when that is free.

        Returns:
            Its (possibly new) base URL.
        """
        with self._restart_lock:
            server = self._servers[index]
            if server.alive():
                return server.url  # another thread restarted it while we waited for the lock
            server.kill(grace_s=1.0)
            deadline = time.monotonic() + self.startup_timeout_s
            fresh = self._spawn(index, port=server.port)
            try:
                self._await_listening(fresh, deadline)
            except RuntimeError:
                fresh.kill(grace_s=0.5)
                fresh = self._spawn(index, port=0)  # the old port was taken meanwhile
                self._await_listening(fresh, deadline)
            fresh.restarts = server.restarts + 1
            try:
                self._wait_servers([fresh], max(1.0, deadline - time.monotonic()))
                self._replay_config(fresh)
            except BaseException:
                fresh.kill(grace_s=0.5)
                raise
            self._servers[index] = fresh
            self._restart_count += 1
            self._drop_control(server.url)
            urls = list(self._urls)
            urls[index] = fresh.url
            self._urls = urls
            return fresh.url

    def _replay_config(self, server: _Server) -> None:
        """Send a restarted server every config update its predecessor had (it starts from the defaults)."""
        update = self.config_sent
        if not update:
            return
        api = ControlAPI(server.url, token=self.token)
        try:
            api.push_config(update)
        except EnvError as exc:
            raise RuntimeError(
                f"server {server.index} restarted but refused its config again: {exc}"
            ) from exc
        finally:
            api.close()

    @property
    def restarts(self) -> int:
        """How many times servers were restarted after a crash, over the provider's life."""
        return self._restart_count

    def restart_crashed_servers(self) -> list[int]:
        """Restart every crashed server now (when ``restart_crashed``); returns their indices.

        Raises:
            EnvError: ``CONNECTION_LOST`` when a restart fails (with the server's log).
        """
        if not self.restart_crashed:
            return []
        indices = self.crashed()
        for index in indices:
            self._restart_or_raise(index)
        return indices

    def _restart_or_raise(self, index: int) -> str:
        try:
            return self.restart(index)
        except RuntimeError as exc:
            raise EnvError(
                ErrorCode.CONNECTION_LOST, f"server {index} crashed and restart failed: {exc}"
            ) from exc

    def push_config(self, update: dict[str, Any], token: str | None = None) -> list[dict[str, Any]]:
        """``POST /config`` to every server, restarting crashed ones first (see :meth:`Provider.push_config`).

        A server killed just before the push (its process not yet reaped, so it looked alive) fails the push
        with ``CONNECTION_LOST``: then its exit is awaited briefly, it is restarted and the push is sent again.
        """
        self.restart_crashed_servers()
        try:
            return super().push_config(update, token)
        except EnvError as exc:
            if exc.code != ErrorCode.CONNECTION_LOST or not self.restart_crashed:
                raise
            deadline = time.monotonic() + 2.0
            while not self.crashed() and time.monotonic() < deadline:
                time.sleep(0.05)
            if not self.restart_crashed_servers():
                raise
            return super().push_config(update, token)

    def get_config(self, token: str | None = None) -> list[dict[str, Any]]:
        """``GET /config`` of every server, restarting crashed ones first."""
        self.restart_crashed_servers()
        return super().get_config(token)

    def pick_url(self) -> str:
        """The next server, round-robin; a crashed one is restarted first when ``restart_crashed``."""
        url = super().pick_url()
        if not self.restart_crashed:
            return url
        index = self._urls.index(url)
        if not self._servers[index].alive():
            return self._restart_or_raise(index)
        return url

    # -- shutdown -------------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Kill every server's process group and remove the log folder (idempotent)."""
        servers, self._servers = self._servers, []
        self._urls = []
        self._close_controls()
        _kill_all(servers, grace_s=3.0)
        if self._logdir is not None:
            shutil.rmtree(self._logdir, ignore_errors=True)
            self._logdir = None
        track_live(self, False)

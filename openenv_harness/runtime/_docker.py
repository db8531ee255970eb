"""Docker provider: env servers in containers, built locally, published on loopback only, never left behind.

``DockerProvider("echo", n_servers=2)`` builds (or finds, by content hash) the env's image, runs
``n_servers`` containers of it with resource limits, waits until each answers ``/health`` and hands out
their base URLs. Containers are removed on :meth:`stop`, when :meth:`start` fails half-way and at interpreter
exit; a process that died without running its exit hooks has its containers swept by the next start
(see :func:`remove_leftovers`). ``image_digest`` is the image id eval bundles pin.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from ._docker_build import BuiltImage, ensure_env_image
from ._docker_engine import (
    ENV_LABEL,
    DockerUnavailable,
    docker_client,
    managed_containers,
    owner_labels,
    remove_leftovers,
)
from ._local import _check_env_vars
from ._provider import TOKEN_VAR, Provider, track_live

_CONTAINER_PORT = 8000


class DockerProvider(Provider):
    """Env servers in local Docker containers.

    Args:
        env: Registered environment id (its folder under ``envs/`` defines the image).
        n_servers: Number of containers (one server each).
        env_kwargs: Constructor arguments of the environment, passed to each server.
        max_sessions: Session cap per server.
        idle_timeout_s: Idle-session reaper timeout per server.
        image: Run this image (tag or ``sha256:`` id) instead of building the env's image.
        cpus: CPU quota per container (``--cpus``).
        mem_limit: Memory limit per container (``--memory``; swap is capped at the same value).
        pids_limit: Max processes/threads per container (``--pids-limit``).
        server_args: Extra command-line arguments for the server (e.g. ``["--max-sessions", "64"]``).
        startup_timeout_s: Time for all containers to answer ``/health``.
        read_only: Read-only root filesystem with a tmpfs ``/tmp`` (the server writes nothing else).
        network: Docker network to attach to (default bridge; the port is published on 127.0.0.1 only).
        rebuild: Build the image even if one with the same inputs exists.
        restart_crashed: Let the engine restart a server that died (crash, OOM kill; up to 5 times). A
            restarted container gets a new host port: clients handed out or reconnecting afterwards get it.
        log: Callable taking progress lines (image builds take a while the first time).
        token: Orchestrator token for ``push_config`` (the servers are started with it when given).
        env_vars: Extra environment variables for every container (e.g. a taskset's secret values).
        own_command: Run the image's own CMD/entrypoint (an OpenEnv-native image, or a taskset's ``image``
            target) instead of ``python -m openenv_harness.server``; it must serve on port 8000. Then
            ``env_kwargs``, ``max_sessions``, ``idle_timeout_s`` and ``server_args`` cannot reach the
            server (refused when given), and the token is only set as ``OPENENV_HARNESS_TOKEN``.
    """

    def __init__(
        self,
        env: str,
        n_servers: int = 1,
        env_kwargs: dict[str, Any] | None = None,
        max_sessions: int = 1024,
        idle_timeout_s: float = 300.0,
        image: str | None = None,
        cpus: float = 1.0,
        mem_limit: str = "512m",
        pids_limit: int = 256,
        server_args: Sequence[str] = (),
        startup_timeout_s: float = 60.0,
        read_only: bool = True,
        network: str | None = None,
        rebuild: bool = False,
        restart_crashed: bool = True,
        log: Callable[[str], None] | None = None,
        token: str | None = None,
        env_vars: Mapping[str, str] | None = None,
        own_command: bool = False,
    ) -> None:
        if n_servers < 1:
            raise ValueError(f"n_servers must be >= 1, got {n_servers}")
        if cpus <= 0 or pids_limit < 16:
            raise ValueError(
                f"cpus must be > 0 and pids_limit >= 16 (got cpus={cpus}, pids_limit={pids_limit})"
            )
        super().__init__(env_id=env, token=token)
        self.env = env
        self.n_servers = n_servers
        self.env_kwargs = dict(env_kwargs or {})
        json.dumps(self.env_kwargs)  # fail here, not in a container, if it cannot be passed on
        self.max_sessions = max_sessions
        self.idle_timeout_s = idle_timeout_s
        self.image = image
        self.cpus = cpus
        self.mem_limit = mem_limit
        self.pids_limit = pids_limit
        self.server_args = list(server_args)
        self.startup_timeout_s = startup_timeout_s
        self.read_only = read_only
        self.network = network
        self.rebuild = rebuild
        self.restart_crashed = restart_crashed
        self._refreshed_at = 0.0
        self._refresh_lock = threading.Lock()
        self.log = log
        self.provider_id = uuid.uuid4().hex[:12]
        self.built: BuiltImage | None = None
        self.containers: list[Any] = []
        self._docker: Any = None
        # Secret values go into the containers' environment only (never the command line or our logs); like
        # any container environment they are visible to whoever can `docker inspect` on this host.
        self._env_vars = _check_env_vars(env_vars)
        self.own_command = own_command
        if own_command and (env_kwargs or server_args):
            raise ValueError(
                "own_command: the image's own command serves; env_kwargs/server_args cannot be passed to it"
            )
        if own_command and image is None:
            raise ValueError("own_command needs image=<the image whose command serves>")

    @property
    def image_digest(self) -> str | None:
        """Id (``sha256:...``) of the image the containers run; None before :meth:`start`."""
        return self.built.id if self.built else None

    def _command(self) -> list[str]:
        cmd = ["python", "-m", "openenv_harness.server", "--env", self.env]
        cmd += ["--host", "0.0.0.0", "--port", str(_CONTAINER_PORT)]  # inside the container only
        cmd += ["--max-sessions", str(self.max_sessions), "--idle-timeout-s", str(self.idle_timeout_s)]
        if self.env_kwargs:
            cmd += ["--env-kwargs", json.dumps(self.env_kwargs)]
        if self.token:
            # Through the environment, not argv, so it does not show in `ps` inside the container.
            cmd += ["--token-env", TOKEN_VAR]
        return cmd + self.server_args

    def _resolve_image(self) -> BuiltImage:
        if self.image is None:
            return ensure_env_image(self._docker, self.env, rebuild=self.rebuild, log=self.log)
        try:
            found = self._docker.images.get(self.image)
        except Exception as exc:
            raise DockerUnavailable(
                f"image {self.image!r} is not in the local Docker store ({exc.__class__.__name__}); nothing is "
                f"pulled: load it (docker load) or leave image=None to build {self.env!r}'s image from its folder"
            ) from None
        return BuiltImage(self.image, found.id, None, 0.0)

    def _run_one(self, index: int) -> Any:
        labels = {**owner_labels(self.provider_id), ENV_LABEL: self.env}
        return self._docker.containers.run(
            self.built.id if self.built else self.image,
            command=None if self.own_command else self._command(),
            name=f"openenv-{self.env}-{self.provider_id}-{index}",
            detach=True,
            labels=labels,
            ports={f"{_CONTAINER_PORT}/tcp": ("127.0.0.1", None)},  # loopback only, free host port
            nano_cpus=int(self.cpus * 1e9),
            mem_limit=self.mem_limit,
            memswap_limit=self.mem_limit,  # no swap beyond the memory limit: OOM is an OOM kill
            pids_limit=self.pids_limit,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            read_only=self.read_only,
            tmpfs={"/tmp": "rw,size=64m"} if self.read_only else None,
            init=True,  # docker-init reaps zombies and forwards SIGTERM to the server
            restart_policy={"Name": "on-failure", "MaximumRetryCount": 5} if self.restart_crashed else None,
            network=self.network,
            environment={**self._env_vars, **({TOKEN_VAR: self.token} if self.token else {})} or None,
        )

    def start(self) -> list[str]:
        """Build or find the image, run the containers and wait until every server is healthy.

        Returns:
            The servers' base URLs (``http://127.0.0.1:PORT``).

        Raises:
            DockerUnavailable: no engine (the message says ``bash scripts/dockerd.sh``).
            RuntimeError: a container exited or did not become healthy (with its last log lines); every
                container started so far has been removed.
        """
        if self._urls:
            return self.urls
        self._docker = docker_client(timeout_s=600)
        remove_leftovers(self._docker)
        track_live(self, True)
        try:
            self.built = self._resolve_image()
            for i in range(self.n_servers):
                container = self._run_one(i)
                self.containers.append(container)
            urls = []
            for container in self.containers:
                url = self._url_of(container)
                if url is None:
                    raise RuntimeError(f"{container.name}: no published port ({self._describe(container)})")
                urls.append(url)
            self._urls = urls
            self.wait_healthy(self.startup_timeout_s)
        except BaseException:
            self.stop()
            raise
        return self.urls

    @staticmethod
    def _url_of(container: Any) -> str | None:
        container.reload()
        binding = (container.ports.get(f"{_CONTAINER_PORT}/tcp") or [{}])[0]
        return f"http://127.0.0.1:{binding['HostPort']}" if binding.get("HostPort") else None

    def pick_url(self) -> str:
        """The next server, round-robin, after picking up the new port of any container the engine restarted.

        Inspecting the containers costs a few ms, so it is done at most once a second.
        """
        if self.restart_crashed and self._urls and time.monotonic() - self._refreshed_at > 1.0:
            with self._refresh_lock:
                self._refreshed_at = time.monotonic()
                with contextlib.suppress(Exception):  # engine hiccup: keep the URLs we have
                    fresh = [self._url_of(c) for c in self.containers]
                    self._urls = [new or old for new, old in zip(fresh, self._urls, strict=True)]
        return super().pick_url()

    def _describe(self, container: Any, lines: int = 20) -> str:
        try:
            container.reload()
            state = container.attrs.get("State", {})
            logs = container.logs(tail=lines).decode(errors="replace").strip()
        except Exception as exc:  # the container may already be gone
            return f"cannot inspect: {exc}"
        status = (
            f"status={state.get('Status')} exit={state.get('ExitCode')} oom_killed={state.get('OOMKilled')}"
        )
        return f"{status}; last log lines:\n{logs}" if logs else status

    def wait_healthy(self, timeout_s: float = 60.0) -> None:
        """Block until every server answers ``GET /health`` with 200.

        Raises:
            RuntimeError: a container exited (with its logs) or ``timeout_s`` passed.
        """
        deadline = time.monotonic() + timeout_s
        pending = dict(zip(self._urls, self.containers, strict=True))
        with httpx.Client(timeout=2.0) as http:
            while pending:
                for url, container in list(pending.items()):
                    try:
                        if http.get(f"{url}/health").status_code == 200:
                            del pending[url]
                            continue
                    except httpx.HTTPError:
                        pass
                    container.reload()
                    # With a restart policy a crashed server shows as restarting (or restarted), not exited.
                    crashed = container.status in ("exited", "dead", "restarting")
                    if crashed or container.attrs.get("RestartCount", 0):
                        raise RuntimeError(
                            f"{container.name} exited before it was healthy: {self._describe(container)}"
                        )
                if pending and time.monotonic() > deadline:
                    names = ", ".join(c.name for c in pending.values())
                    detail = self._describe(next(iter(pending.values())))
                    raise RuntimeError(f"not healthy after {timeout_s:.0f} s: {names}; {detail}")
                if pending:
                    time.sleep(0.1)

    def stop(self) -> None:
        """Remove every container of this provider (idempotent; also finds ones not yet tracked)."""
        self._urls = []
        if self._docker is None:
            return
        # By label, not only self.containers: a container created just before a failure is caught too.
        try:
            found = managed_containers(self._docker, self.provider_id)
        except Exception:  # engine gone: nothing we can remove anyway
            found = []
        for container in {c.id: c for c in [*self.containers, *found]}.values():
            with contextlib.suppress(Exception):  # already removed
                container.remove(force=True)
        self.containers = []
        self._close_controls()
        track_live(self, False)

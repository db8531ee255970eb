"""Reaching the Docker engine, and finding or removing the containers this project started.

Every container the Docker provider runs carries labels (``org.openenv-harness.managed``, the provider's
id, the owning process id and host), so leftovers can always be found with
``docker ps -a --filter label=org.openenv-harness.managed=1`` and removed by :func:`remove_leftovers`.
"""

from __future__ import annotations

import importlib
import os
import socket
from typing import Any

LABEL_PREFIX = "org.openenv-harness"
MANAGED_LABEL = f"{LABEL_PREFIX}.managed"
PROVIDER_LABEL = f"{LABEL_PREFIX}.provider-id"
OWNER_PID_LABEL = f"{LABEL_PREFIX}.owner-pid"
OWNER_HOST_LABEL = f"{LABEL_PREFIX}.owner-host"
ENV_LABEL = f"{LABEL_PREFIX}.env"
# API 1.41 is what the docker.io 20.10 engine speaks; "auto" negotiates down from newer SDKs too.
_API_VERSION = "auto"
_HINT = "start dockerd: bash scripts/dockerd.sh (or install Docker: apt-get install -y docker.io)"


class DockerUnavailable(RuntimeError):
    """No Docker engine (or SDK, or build tool) is available; the message says how to get one."""


def docker_client(timeout_s: float = 60.0) -> Any:
    """A ``docker.DockerClient`` that has answered a ping.

    Args:
        timeout_s: Socket timeout of API calls (image builds pass their own).

    Raises:
        DockerUnavailable: if the ``docker`` SDK is missing or no engine answers (naming the fix).
    """
    try:
        # import_module, typed Any: mypy run from the root would take the repo's docker/ folder for the SDK.
        docker: Any = importlib.import_module("docker")
    except ImportError:
        raise DockerUnavailable(
            "the Docker provider needs the docker SDK: pip install 'openenv-harness[docker]'"
        ) from None
    try:
        client = docker.from_env(version=_API_VERSION, timeout=int(timeout_s))
        client.ping()
    except Exception as exc:
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise DockerUnavailable(
            f"no Docker engine answers at {host} ({exc.__class__.__name__}); {_HINT}"
        ) from None
    return client


def engine_available() -> tuple[bool, str]:
    """``(True, version)`` if an engine answers, else ``(False, reason)`` (used by tests to skip)."""
    try:
        client = docker_client(timeout_s=5)
    except DockerUnavailable as exc:
        return False, str(exc)
    try:
        return True, str(client.version().get("Version", "?"))
    finally:
        client.close()


def owner_labels(provider_id: str) -> dict[str, str]:
    """Labels that tie a container to this process and provider."""
    return {
        MANAGED_LABEL: "1",
        PROVIDER_LABEL: provider_id,
        OWNER_PID_LABEL: str(os.getpid()),
        OWNER_HOST_LABEL: socket.gethostname(),
    }


def managed_containers(client: Any, provider_id: str | None = None) -> list[Any]:
    """Containers (running or not) started by the Docker provider, optionally by one provider."""
    label = f"{PROVIDER_LABEL}={provider_id}" if provider_id else f"{MANAGED_LABEL}=1"
    return list(client.containers.list(all=True, filters={"label": label}))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(client: Any, all_owners: bool = False) -> list[str]:
    """Remove managed containers whose owning process (on this host) is gone.

    A process killed with SIGKILL cannot run its exit hook; the next provider start calls this, so its
    containers do not pile up.

    Args:
        client: A ``docker.DockerClient``.
        all_owners: Remove every managed container, even those of live processes.

    Returns:
        Names of the removed containers.
    """
    removed = []
    host = socket.gethostname()
    for container in managed_containers(client):
        labels = container.labels or {}
        pid = labels.get(OWNER_PID_LABEL, "")
        mine = labels.get(OWNER_HOST_LABEL) == host
        if all_owners or (mine and pid.isdigit() and not _pid_alive(int(pid))):
            try:
                container.remove(force=True)
                removed.append(container.name)
            except Exception:  # already gone (another process cleaned it up): nothing to do
                pass
    return removed

"""Can the replicas be placed? Checks and messages of the ``ray`` provider (what they need, what Ray has)."""

from __future__ import annotations

from typing import Any

_SCALED = {"memory", "object_store_memory"}


class RayPlacementError(RuntimeError):
    """Replicas cannot be (or were not) placed on the cluster; the message says what they need."""


def demand(options: dict[str, Any]) -> dict[str, float]:
    """What one replica asks Ray for, as Ray's resource names (``CPU``, ``memory``, custom ones)."""
    out: dict[str, float] = {}
    if options.get("num_cpus"):
        out["CPU"] = float(options["num_cpus"])
    if options.get("memory"):
        out["memory"] = float(options["memory"])
    out.update({k: float(v) for k, v in (options.get("resources") or {}).items()})
    return out


def _fmt(resources: dict[str, float]) -> str:
    parts = []
    for name in sorted(resources):
        value = resources[name]
        if name in _SCALED:
            parts.append(f"{name}={value / 2**20:.0f}MiB")
        elif not name.startswith("node:"):
            parts.append(f"{name}={value:g}")
    return "{" + ", ".join(parts) + "}"


def check_fits(ray: Any, replicas: int, options: dict[str, Any]) -> None:
    """Fail at once when a local instance cannot hold ``replicas`` replicas at all.

    Raises:
        RayPlacementError: naming the config key to change.
    """
    need = demand(options)
    have = {k: float(v) for k, v in ray.cluster_resources().items()}
    short = [name for name, amount in need.items() if amount * replicas > have.get(name, 0.0) + 1e-9]
    if short:
        raise RayPlacementError(
            f"runtime.replicas={replicas} x {_fmt(need)} do not fit the local Ray instance {_fmt(have)} "
            f"(short of {', '.join(short)}): lower runtime.cpus_per_replica / memory_per_replica / replicas, "
            "or join a cluster with runtime.address"
        )


def describe_pending(ray: Any, pending: int, total: int, options: dict[str, Any], waited_s: float) -> str:
    """Why ``pending`` of ``total`` replicas are not serving after ``waited_s`` (for the error message)."""
    try:
        cluster = _fmt({k: float(v) for k, v in ray.cluster_resources().items()})
        free = _fmt({k: float(v) for k, v in ray.available_resources().items()})
    except Exception:  # the cluster itself is unreachable
        cluster = free = "unknown"
    return (
        f"{pending} of {total} Ray env replicas not serving after {waited_s:.0f}s: each needs {_fmt(demand(options))}; "
        f"the cluster has {cluster}, free {free}. Lower runtime.cpus_per_replica / memory_per_replica / "
        "replica_resources, add nodes, or raise runtime.startup_timeout_s"
    )

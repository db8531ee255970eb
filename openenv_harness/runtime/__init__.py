"""Providers: running environment servers and the clients that reach them.

Every provider has the same face (:class:`Provider`): ``start() -> urls``, ``stop()``, ``wait_healthy()``,
``client()`` / ``async_client()`` (sessions spread round-robin across servers), ``push_config(update)`` to
every server at once, and use as a context manager. :func:`make_provider` builds one by kind name.
``DockerProvider`` is imported lazily (it needs the ``docker`` SDK); :class:`RayProvider` imports Ray only when
started (the ``ray`` extra).
"""

from typing import TYPE_CHECKING, Any

from ._factory import KINDS, make_provider
from ._inprocess import AsyncInProcessClient, InProcessClient, InProcessProvider
from ._local import LocalProcessProvider
from ._provider import Provider, stop_live_providers
from ._ray import RayProvider
from ._remote import RemoteProvider

if TYPE_CHECKING:
    from ._docker import DockerProvider


def __getattr__(name: str) -> Any:
    if name == "DockerProvider":
        from ._factory import docker_provider_class

        return docker_provider_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "KINDS",
    "AsyncInProcessClient",
    "DockerProvider",
    "InProcessClient",
    "InProcessProvider",
    "LocalProcessProvider",
    "Provider",
    "RayProvider",
    "RemoteProvider",
    "make_provider",
    "stop_live_providers",
]

"""Which environment instance an MCP request acts on: live episodes looked up by id.

An MCP client is a different connection from the orchestrator's WS/HTTP session, so each MCP request must say
which episode it belongs to. The contract: the client sends the episode id it got from ``reset`` (observation
``metadata["episode_id"]``) in the ``X-OpenEnv-Episode-Id`` header on every MCP request (one MCP client per
episode). The directory maps live episode ids to their environment instances through weak references, so a
closed or garbage-collected session disappears from it without any extra bookkeeping. Episode ids must be
unique among live episodes of one directory: binding an id held by another live instance is refused.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from typing import Any

EPISODE_HEADER = "X-OpenEnv-Episode-Id"
"""HTTP header an MCP client sends to select its episode."""


class EpisodeNotFound(LookupError):
    """An MCP request named no episode, or one that is not live on this server."""


class EpisodeDirectory:
    """Live episode ids mapped (weakly) to the objects that own their state."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()

    def bind(self, episode_id: str, target: Any) -> None:
        """Make ``episode_id`` resolve to ``target``.

        Raises:
            ValueError: if another live object already holds this episode id.
        """
        with self._lock:
            current = self._items.get(episode_id)
            if current is not None and current is not target:
                raise ValueError(
                    f"episode_id {episode_id!r} is already in use by another live session; "
                    "use a unique episode_id (or omit it to get a generated one)"
                )
            self._items[episode_id] = target

    def unbind(self, episode_id: str | None, target: Any) -> None:
        """Forget ``episode_id`` if it still points at ``target``."""
        if episode_id is None:
            return
        with self._lock:
            if self._items.get(episode_id) is target:
                del self._items[episode_id]

    def get(self, episode_id: str) -> Any | None:
        """The object bound to ``episode_id``, or None."""
        with self._lock:
            return self._items.get(episode_id)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def resolve(self, headers: Mapping[str, str] | None) -> Any:
        """Find the target of a request from its headers.

        Args:
            headers: The request headers (case-insensitive mapping, or a plain dict).

        Raises:
            EpisodeNotFound: with a message that says which header to send.
        """
        episode_id = None
        if headers is not None:
            episode_id = headers.get(EPISODE_HEADER) or headers.get(EPISODE_HEADER.lower())
        if not episode_id:
            raise EpisodeNotFound(
                f"no episode selected: send the {EPISODE_HEADER} header with the episode id from reset "
                "(observation metadata 'episode_id')"
            )
        target = self.get(episode_id)
        if target is None:
            raise EpisodeNotFound(
                f"episode {episode_id!r} is not live on this server (never reset, or closed)"
            )
        return target

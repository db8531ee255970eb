"""Serve an environment's tools on ``/mcp`` of its env server, each call acting on the caller's episode.

An environment with agent-facing tools declares a :class:`ToolRegistry`, binds each episode id in an
:class:`EpisodeDirectory` at reset, and exposes ``call_tool(name, args)`` (its own locking, episode checks and
budgets). Its ``setup_app(app, sessions)`` hook (called by ``openenv_harness.server.create_app``) then calls
:func:`serve_env_tools`. An MCP request selects its episode with one of two headers:

* ``X-OpenEnv-Episode-Id: <episode id>`` — works whatever transport the orchestrator uses (WS, HTTP,
  in-process); the id is in every observation's ``metadata["episode_id"]``;
* ``X-Session-Id: <session id>`` — an HTTP session of this server.

Only episodes of *this* app's sessions are reachable. The SDK's Host-header (DNS-rebinding) check is off by
default so ``/mcp`` works behind Docker port publishing and proxies; set ``OPENENV_MCP_ALLOWED_HOSTS``
(comma-separated ``host:port`` patterns such as ``127.0.0.1:*,localhost:*``) to enable it for those hosts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from ._directory import EpisodeDirectory, EpisodeNotFound
from ._registry import ToolRegistry
from ._server import build_mcp_server, mcp_lifespan, mount_mcp

ALLOWED_HOSTS_ENV = "OPENENV_MCP_ALLOWED_HOSTS"
SESSION_HEADER = "X-Session-Id"


def resolve_session_env(sessions: Any, directory: EpisodeDirectory, headers: Mapping[str, str] | None) -> Any:
    """The environment instance an MCP request belongs to (see the module docs).

    Raises:
        EpisodeNotFound: naming the header to send, or why the episode is not reachable.
    """
    session_id = (headers.get(SESSION_HEADER.lower()) or headers.get(SESSION_HEADER)) if headers else None
    if session_id and sessions is not None:
        session = sessions.get(session_id)
        if session is None:
            raise EpisodeNotFound(f"session {session_id!r} is not live on this server")
        return session.env
    env = directory.resolve(headers)
    if sessions is not None and not any(getattr(s, "env", None) is env for s in sessions):
        raise EpisodeNotFound("that episode belongs to another server in this process")
    return env


def allowed_hosts_from_env() -> list[str] | None:
    """Host patterns from ``OPENENV_MCP_ALLOWED_HOSTS`` (None when unset: protection off)."""
    raw = os.environ.get(ALLOWED_HOSTS_ENV, "").strip()
    return [h.strip() for h in raw.split(",") if h.strip()] or None


def serve_env_tools(
    app: Any,
    sessions: Any,
    *,
    registry: ToolRegistry,
    directory: EpisodeDirectory,
    call: Callable[[Any, str, dict[str, Any]], Any],
    name: str,
    instructions: str | None = None,
    path: str = "/mcp",
) -> Any:
    """Build the MCP server for ``registry`` and serve it at ``path`` of an env server app.

    Args:
        app: The app from ``create_app`` (its ``state.lifespan_hooks`` get the MCP session manager; a plain
            app gets its lifespan wrapped instead).
        sessions: The app's session registry (``sessions.get(id)``, iterable of sessions with ``.env``).
        registry: The tools.
        directory: Where the env binds its live episode ids.
        call: ``call(env, tool_name, args)`` — usually ``env.call_tool``.
        name: MCP server name.
        instructions: Announced to MCP clients.
        path: Mount path.

    Returns:
        The SDK server object.
    """
    server = build_mcp_server(
        registry,
        partial(resolve_session_env, sessions, directory),
        name=name,
        instructions=instructions
        or "Send the header X-OpenEnv-Episode-Id with the episode id from reset on every request.",
        call=call,
    )
    hosts = allowed_hosts_from_env()
    origins = [f"http://{h}" for h in hosts] if hosts else None
    hooks = getattr(getattr(app, "state", None), "lifespan_hooks", None)
    mount_mcp(
        app, server, path=path, allowed_hosts=hosts, allowed_origins=origins, wrap_lifespan=hooks is None
    )
    if hooks is not None:
        hooks.append(mcp_lifespan(server))
    return server

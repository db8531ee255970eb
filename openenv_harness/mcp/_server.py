"""Serve a :class:`ToolRegistry` with the official MCP SDK, mounted at ``/mcp`` of an env server.

Each registry entry becomes an MCP tool with the same name, description and argument schema. A call resolves
its target (the environment instance owning the episode) from the request headers with a resolver callback,
then runs the tool in a worker thread (environment code is synchronous). Failures reach the client as MCP tool
errors (``isError: true``) with a message naming the tool and the problem: the SDK hides the message of a plain
exception, so every exception is re-raised as the SDK's ``ToolError``.

Mounting adds the streamable-HTTP endpoint as a route at exactly ``path`` (no ``/mcp/mcp``, no 307 to
``/mcp/``) and wraps the app's lifespan so that the SDK's session manager runs while the app runs (without it
every request fails with "Task group is not initialized").
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio

from openenv_harness.spec import RESERVED_TOOL_NAMES

from ._compat import Context, MCPServer, ToolError, TransportSecuritySettings, streamable_http_app
from ._registry import ReservedToolNameError, ToolCallError, ToolRegistry, ToolSpec

Resolver = Callable[[Mapping[str, str]], Any]
"""Maps the headers of an MCP request to the target object a tool acts on; raises LookupError if none."""


def _to_text(result: Any) -> str:
    return result if isinstance(result, str) else json.dumps(result, default=str)


def _mcp_tool(spec: ToolSpec, resolve: Resolver, call: Callable[[Any, str, dict[str, Any]], Any]) -> Any:
    """An async function whose signature is the tool's own arguments plus an injected ``ctx: Context``."""

    async def tool(**kwargs: Any) -> str:
        ctx = kwargs.pop("ctx")
        headers = getattr(ctx.request_context.request, "headers", None) or {}
        try:
            target = resolve(headers)
        except LookupError as exc:
            raise ToolError(str(exc)) from None
        try:
            result = await anyio.to_thread.run_sync(functools.partial(call, target, spec.name, kwargs))
        except ToolCallError as exc:
            raise ToolError(str(exc)) from None
        except Exception as exc:
            raise ToolError(f"{spec.name} failed: {type(exc).__name__}: {exc}") from None
        return _to_text(result)

    params = [*spec.parameters, inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
    tool.__signature__ = inspect.Signature(params, return_annotation=str)  # type: ignore[attr-defined]
    tool.__annotations__ = {p.name: p.annotation for p in params} | {"return": str}
    tool.__name__ = spec.name.replace(".", "_").replace("-", "_")
    tool.__doc__ = spec.description
    return tool


def build_mcp_server(
    registry: ToolRegistry,
    resolve: Resolver,
    *,
    name: str,
    instructions: str | None = None,
    call: Callable[[Any, str, dict[str, Any]], Any] | None = None,
) -> Any:
    """Build an MCP server exposing every tool of ``registry``.

    Args:
        registry: The tools (reserved names were refused when they were registered).
        resolve: Headers -> target; a ``LookupError`` becomes a tool error the client sees.
        name: Server name announced to clients.
        instructions: Optional instructions announced to clients.
        call: ``call(target, tool_name, args)``; defaults to ``registry.call``. Environments pass their own
            method so MCP calls and step-based tool actions share one code path (locking, episode checks).

    Returns:
        The SDK server object (``MCPServer`` on mcp 2.x, ``FastMCP`` on 1.x).
    """
    server = MCPServer(name=name, instructions=instructions)
    invoke = call if call is not None else registry.call
    for spec in registry:
        server.add_tool(_mcp_tool(spec, resolve, invoke), name=spec.name, description=spec.description)
    return server


async def check_server_tools(server: Any) -> None:
    """Refuse a server that exposes a reserved tool name (for servers built outside a ToolRegistry).

    Raises:
        ReservedToolNameError: naming the offending tools.
    """
    bad = sorted(t.name for t in await server.list_tools() if t.name.lower() in RESERVED_TOOL_NAMES)
    if bad:
        raise ReservedToolNameError(
            f"MCP server exposes reserved tool name(s) {', '.join(bad)}; reset/step/state/close are "
            "orchestrator operations and may not be agent tools"
        )


def mcp_lifespan(server: Any) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A lifespan hook that checks tool names and runs the SDK's session manager while the app runs."""

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        await check_server_tools(server)
        async with server.session_manager.run():
            yield

    return lifespan


def mount_mcp(
    app: Any,
    server: Any,
    *,
    path: str = "/mcp",
    allowed_hosts: Sequence[str] | None = None,
    allowed_origins: Sequence[str] | None = None,
    wrap_lifespan: bool = True,
) -> None:
    """Serve ``server`` at ``path`` of a FastAPI/Starlette ``app``.

    Args:
        app: The env server's app.
        server: An MCP server (from :func:`build_mcp_server` or built by hand).
        path: Where to serve it.
        allowed_hosts: Host header values to accept (``"host:port"``, ``"host:*"``). None (the default) turns
            the SDK's DNS-rebinding protection off, so the endpoint works behind Docker port publishing and
            proxies, whose Host header is not ``localhost``; the env server itself binds to 127.0.0.1 unless told
            otherwise. Pass a list to turn the protection on for exactly those hosts.
        allowed_origins: Origin header values to accept when protection is on.
        wrap_lifespan: Wrap ``app.router.lifespan_context`` so the session manager runs with the app. Pass
            False when the caller installs :func:`mcp_lifespan` itself.
    """
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=allowed_hosts is not None,
        allowed_hosts=list(allowed_hosts or []),
        allowed_origins=list(allowed_origins or []),
    )
    sub = streamable_http_app(server, path, security)
    # Take the SDK's route itself rather than mounting its app: a Mount at /mcp would serve /mcp/mcp, or
    # answer /mcp with a 307 when the inner path is "/".
    app.router.routes.extend(sub.routes)
    if wrap_lifespan:
        inner = app.router.lifespan_context
        hook = mcp_lifespan(server)

        @asynccontextmanager
        async def lifespan(a: Any) -> AsyncIterator[Any]:
            async with hook(a), inner(a) as state:
                yield state

        app.router.lifespan_context = lifespan

"""``POST /mcp`` as plain JSON-RPC, the way OpenEnv's clients and validator speak it, beside the MCP SDK.

The MCP SDK's streamable-HTTP endpoint (what real MCP clients use: ``initialize``, then requests that accept
``text/event-stream``) answers a request that does not accept an event stream with 406. OpenEnv 0.10 sends
exactly such requests: ``openenv validate`` posts ``{}`` and wants a JSON-RPC body with status 200, and its
``MCPToolClient`` posts ``openenv/session/create``, ``tools/list`` and ``tools/call`` (with
``params.session_id``) as one JSON request and one JSON reply. :class:`PlainMCP` is an ASGI middleware that
answers those (a request to ``POST /mcp`` whose ``Accept`` does not name ``text/event-stream``) and passes
everything else through untouched, so the SDK path and every other route are unaffected.

* An env without agent tools answers every such request with a JSON-RPC error (``-32601``) that says so.
* With tools: ``openenv/session/create`` opens a server session and starts an episode in it (tools act on an
  episode); ``tools/list`` lists the registry; ``tools/call`` runs ``env.call_tool(name, arguments)`` on the
  session's env in a worker thread. A tool's failure is a JSON-RPC error naming the tool and the problem.
"""

from __future__ import annotations

import json
from typing import Any

import anyio

_NO_METHOD = -32601
_INVALID = -32600
_PARAMS = -32602
_FAILED = -32000


def _reply(rid: Any, result: Any = None, error: tuple[int, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"jsonrpc": "2.0", "id": rid}
    if error is not None:
        out["error"] = {"code": error[0], "message": error[1]}
    else:
        out["result"] = result
    return out


class PlainMCP:
    """ASGI middleware answering plain JSON-RPC ``POST /mcp`` (see the module docstring).

    Args:
        app: The wrapped ASGI app.
        sessions: The server's session registry (``create()``, ``get(id)``).
        env_name: Name used in messages.
        registry: The env's :class:`~openenv_harness.mcp.ToolRegistry`, or None for an env without tools.
        path: The MCP path.
    """

    def __init__(
        self, app: Any, sessions: Any, env_name: str, registry: Any = None, path: str = "/mcp"
    ) -> None:
        self.app, self.sessions, self.env_name, self.registry, self.path = (
            app,
            sessions,
            env_name,
            registry,
            path,
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if not self._mine(scope):
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            reply = _reply(None, error=(-32700, "POST /mcp body is not JSON"))
        else:
            reply = await self.handle(request if isinstance(request, dict) else {})
        raw = json.dumps(reply, default=str).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": raw})

    def _mine(self, scope: Any) -> bool:
        if scope.get("type") != "http" or scope.get("method") != "POST" or scope.get("path") != self.path:
            return False
        accept = dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1")
        return "text/event-stream" not in accept  # the SDK's own clients always accept an event stream

    async def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """The JSON-RPC reply to one request."""
        rid, method = request.get("id"), request.get("method")
        raw = request.get("params")
        params: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if not isinstance(method, str):
            return _reply(rid, error=(_INVALID, "a JSON-RPC request needs a string 'method'"))
        if self.registry is None:
            return _reply(
                rid,
                error=(
                    _NO_METHOD,
                    f"environment {self.env_name!r} has no agent tools: /mcp serves no {method!r} here "
                    "(reset/step/state are on /ws and HTTP)",
                ),
            )
        try:
            if method == "openenv/session/create":
                session = await self.sessions.create()
                await session.reset({})
                return _reply(rid, {"session_id": session.id})
            if method == "tools/list":
                tools = [
                    {"name": t.name, "description": t.description, "inputSchema": t.input_schema()}
                    for t in self.registry
                ]
                return _reply(rid, {"tools": tools})
            if method == "tools/call":
                return _reply(rid, await self._call(params))
        except LookupError as exc:
            return _reply(rid, error=(_PARAMS, str(exc)))
        except Exception as exc:  # noqa: BLE001 - any failure is the caller's JSON-RPC error, never a 500
            message = getattr(exc, "message", None) or str(exc)
            return _reply(rid, error=(_FAILED, f"{method} failed: {type(exc).__name__}: {message}"))
        return _reply(
            rid,
            error=(
                _NO_METHOD,
                f"unknown method {method!r}: use openenv/session/create, tools/list, tools/call",
            ),
        )

    async def _call(self, params: dict[str, Any]) -> dict[str, Any]:
        name, args, sid = params.get("name"), params.get("arguments") or {}, params.get("session_id")
        if not isinstance(name, str) or not isinstance(args, dict):
            raise LookupError("tools/call needs params.name (a string) and params.arguments (an object)")
        session = self.sessions.get(sid) if isinstance(sid, str) else None
        if session is None:
            raise LookupError(
                f"unknown session {sid!r}: call openenv/session/create first and pass params.session_id"
            )
        env = session.env
        result = await anyio.to_thread.run_sync(lambda: env.call_tool(name, args, via_mcp=True))
        text = result if isinstance(result, str) else json.dumps(result, default=str)
        return {"content": [{"type": "text", "text": text}], "data": result, "isError": False}

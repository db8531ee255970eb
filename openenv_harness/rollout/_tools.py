"""The tools an MCP env offers its agent: names, descriptions and input schemas, for the generic adapter.

An env whose action is a tool call (OpenEnv's ``CallToolAction``: ``tool_name`` + ``arguments``; our
``tools`` env: ``tool`` + ``args``) says nothing about *which* tools exist in its action schema, so the
generic adapter asks (:func:`tools_of`), first source that answers:

* a registered env class with a tool registry (``tool_registry``, our MCP envs): no server needed, so it
  works in process too;
* ``POST /mcp`` with a plain JSON-RPC ``tools/list`` on the env's first server: what OpenEnv's servers answer
  for an MCP env (their ``/ws`` only accepts the env's action class, so the ``list_tools`` step is not
  reachable there), and what ours answer for an env with tools.

An env without tools (a JSON-RPC error such as our ``-32601``, a 404, no server) has none: ``[]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class ToolSpec:
    """One tool as MCP's ``tools/list`` describes it.

    Attributes:
        name: The tool's name (what a call names).
        description: What it does.
        input_schema: JSON schema of its arguments object.
    """

    name: str
    description: str = ""
    input_schema: dict[str, Any] = field(default_factory=dict)


def tools_from_listing(items: Any) -> list[ToolSpec]:
    """Tools from a ``tools/list`` result's ``tools`` (``inputSchema`` or ``input_schema``); junk entries skipped."""
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            continue
        schema = item.get("inputSchema", item.get("input_schema"))
        out.append(
            ToolSpec(
                name=item["name"],
                description=str(item.get("description") or ""),
                input_schema=dict(schema) if isinstance(schema, dict) else {},
            )
        )
    return out


def list_tools(url: str, token: str | None = None, timeout_s: float = 10.0) -> list[ToolSpec]:
    """``tools/list`` over ``POST {url}/mcp`` as plain JSON-RPC; ``[]`` when the server has no tools there."""
    from ..client._control import shared_ssl_context

    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    try:
        with httpx.Client(timeout=timeout_s, trust_env=False, verify=shared_ssl_context()) as http:
            resp = http.post(url.rstrip("/") + "/mcp", json=request, headers=headers)
        body = resp.json() if resp.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return []
    result = body.get("result") if isinstance(body, dict) else None
    return tools_from_listing(result.get("tools") if isinstance(result, dict) else None)


def tools_of(env_id: str, urls: list[str], token: str | None = None) -> list[ToolSpec]:
    """The tools of ``env_id``: its class's registry when registered here, else its first server's ``/mcp``."""
    from ._foreign import is_registered

    if is_registered(env_id):
        from ..spec import spec

        registry = getattr(spec(env_id).load(), "tool_registry", None)
        if registry is not None:
            return tools_from_listing(list(registry.describe()))
    return list_tools(urls[0], token) if urls else []

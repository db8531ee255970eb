"""Clients for environment servers: WebSocket (sync and async) and stateful HTTP.

Each client drives one session (one trajectory at a time) with the same face: ``reset``, ``step``, ``state``,
``close``, plus the control surface ``health``, ``metadata``, ``schema``, ``get_config`` and ``push_config``.
They speak OpenEnv 0.10's protocol, and our extensions (request ids, step ``timeout_s``) only to servers that
advertise them in ``GET /metadata``, so OpenEnv's own servers work too.
"""

from ._async import AsyncEnvClient
from ._control import AsyncControlAPI, ControlAPI
from ._http import SESSION_HEADER, HTTPEnvClient
from ._protocol import OURS, PLAIN, ServerProtocol, normalize_base_url
from ._sync import EnvClient
from ._typed import async_client_for, client_for, env_types

__all__ = [
    "OURS",
    "PLAIN",
    "SESSION_HEADER",
    "AsyncControlAPI",
    "AsyncEnvClient",
    "ControlAPI",
    "EnvClient",
    "HTTPEnvClient",
    "ServerProtocol",
    "async_client_for",
    "client_for",
    "env_types",
    "normalize_base_url",
]

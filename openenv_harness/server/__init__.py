"""The environment server: one FastAPI app per environment type, many sessions per app.

``create_app(env)`` serves WS ``/ws`` (OpenEnv-compatible frames plus request ids and ``timeout_s``),
stateful HTTP ``/reset`` ``/step`` ``/state`` ``/close``, ``/health``, ``/metadata``, ``/schema`` and the
reward config at ``/config``. :class:`Session` is the transport-free core (the in-process provider uses it
directly). ``python -m openenv_harness.server --env echo`` serves from the command line.
"""

from ._app import PROTOCOL, Lifespan, create_app, resolve_env
from ._executor import default_executor, default_worker_count, make_executor
from ._http import SESSION_HEADER
from ._limits import ServerLimits
from ._serve import bind_socket, make_server, serve, url_of
from ._session import EnvFactory, Session
from ._sessions import SessionRegistry, reap_interval
from ._thread import serve_in_thread
from ._wire import HTTP_STATUS

__all__ = [
    "HTTP_STATUS",
    "PROTOCOL",
    "SESSION_HEADER",
    "EnvFactory",
    "Lifespan",
    "Session",
    "ServerLimits",
    "SessionRegistry",
    "bind_socket",
    "create_app",
    "default_executor",
    "default_worker_count",
    "make_executor",
    "make_server",
    "reap_interval",
    "resolve_env",
    "serve",
    "serve_in_thread",
    "url_of",
]

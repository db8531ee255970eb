"""``create_app``: the FastAPI app that serves one environment type to many sessions."""

from __future__ import annotations

import contextlib
import functools
import hmac
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, cast

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import WebSocketRoute

from openenv_harness.spec import (
    ConfigHolder,
    EnvError,
    Environment,
    ErrorCode,
    InitKwargError,
    check_init_kwargs,
)
from openenv_harness.spec import spec as env_spec

from ._body import BodyLimit
from ._executor import make_executor
from ._http import error_response, http_endpoints, json_response, read_json
from ._limits import ServerLimits
from ._mcp_plain import PlainMCP
from ._openapi import install_openapi
from ._session import EnvFactory
from ._sessions import SessionRegistry
from ._ws import WebSocketEndpoint

log = logging.getLogger(__name__)

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]
"""A lifespan hook: called with the app, entered at start-up and exited at shutdown."""

PROTOCOL = {"ids": True, "timeout_s": True, "config": True}
"""Protocol extensions this server speaks (advertised at ``/metadata`` so our client may use them)."""


def resolve_env(
    env: type[Environment[Any, Any]] | str | Callable[[], Environment[Any, Any]],
    env_kwargs: dict[str, Any] | None = None,
) -> tuple[type[Environment[Any, Any]], EnvFactory]:
    """Turn an Environment subclass, a registered id or a zero-arg factory into ``(class, factory)``.

    Constructor arguments are checked against the class signature here, so a typo fails at start-up rather
    than at the first connection. A plain factory is called once to learn the class it builds.

    Raises:
        ValueError: unknown id or bad ``env_kwargs``.
        TypeError: ``env`` is none of the accepted kinds.
    """
    kwargs = dict(env_kwargs or {})
    if isinstance(env, str):
        try:
            spec = env_spec(env)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        cls = spec.load()
        kwargs = {**spec.kwargs, **kwargs}
    elif isinstance(env, type) and issubclass(env, Environment):
        cls = env
    elif callable(env):
        factory = cast(EnvFactory, functools.partial(env, **kwargs) if kwargs else env)
        probe = factory()
        if not isinstance(probe, Environment):
            raise TypeError(f"the env factory returned {type(probe).__name__}, not an Environment")
        probe.close()
        return type(probe), factory
    else:
        raise TypeError(f"env must be an Environment subclass, a registered id or a factory, got {env!r}")
    override = kwargs.pop("rubric", None) if "rubric" not in inspect.signature(cls).parameters else None
    try:
        inspect.signature(cls).bind(**kwargs)
        check_init_kwargs(cls, kwargs)  # values too: the bounds the constructor declares
    except (TypeError, InitKwargError) as exc:
        raise ValueError(f"bad env_kwargs for {cls.__name__}: {exc}") from None
    if override is not None:
        # A rubric chosen by config (rubric=judge): built once now so a bad tree fails at start-up.
        from ..rubric import install_rubric

        install_rubric(cls(**kwargs), override).close()
        return cls, functools.partial(_with_rubric, cls, kwargs, override)
    return cls, functools.partial(cls, **kwargs)


def _with_rubric(
    cls: type[Environment[Any, Any]], kwargs: dict[str, Any], tree: Any
) -> Environment[Any, Any]:
    from ..rubric import install_rubric

    env: Environment[Any, Any] = install_rubric(cls(**kwargs), tree)
    return env


def create_app(
    env: type[Environment[Any, Any]] | str | Callable[[], Environment[Any, Any]],
    *,
    max_sessions: int = 1024,
    idle_timeout_s: float = 300.0,
    orchestrator_token: str | None = None,
    max_frame_bytes: int = 1 << 20,
    env_kwargs: dict[str, Any] | None = None,
    default_step_timeout_s: float | None = None,
    lifespans: Sequence[Lifespan] = (),
    max_workers: int | None = None,
    limits: ServerLimits | None = None,
) -> FastAPI:
    """Build the app serving one environment type: WS ``/ws``, stateful HTTP, ``/config``, info routes.

    Args:
        env: An :class:`Environment` subclass, a registered id (``"echo"``) or a zero-arg factory.
            One instance is built per session.
        max_sessions: Cap on concurrent sessions (WS connections plus HTTP sessions); ``CAPACITY`` beyond.
        idle_timeout_s: The reaper closes sessions idle longer than this (<= 0 turns the reaper off).
        orchestrator_token: When set, ``GET`` and ``POST /config`` require ``Authorization: Bearer <token>``
            (401 without it, 403 with a wrong one).
        max_frame_bytes: Largest WS frame / HTTP body accepted (``FRAME_TOO_LARGE`` beyond).
        env_kwargs: Constructor arguments for the environment.
        default_step_timeout_s: ``timeout_s`` for resets/steps that do not give one (None: no limit).
        lifespans: Lifespan hooks, each ``hook(app)`` an async context manager entered at start-up (in order)
            and exited at shutdown (in reverse), around the session machinery.
        max_workers: Threads of the shared pool for synchronous env code (default: cores + 4, at most 32).
        limits: Limits against hostile clients: connection cap, header/body timeouts, maximum session
            lifetime (defaults: :class:`ServerLimits`). The body limit (``max_frame_bytes``, enforced while the
            body streams in) and the body timeout hold for every HTTP route; the connection cap and header
            timeout are applied by :func:`openenv_harness.server.serve` (``app.state.limits``).

    Returns:
        The FastAPI app. ``app.state.sessions`` is the :class:`SessionRegistry`, ``app.state.config`` the
        :class:`ConfigHolder` (or None), ``app.state.env_class`` the environment class and
        ``app.state.lifespan_hooks`` the list of lifespan hooks (append to it before start-up).

    Extension hook: if the environment class defines a classmethod ``setup_app(app, sessions)``, it is
    called once here, after the built-in routes exist. It may add routes or mount sub-apps (e.g. an MCP app at
    ``/mcp``), look sessions up with ``sessions.get(session_id)`` and append lifespan hooks to
    ``app.state.lifespan_hooks`` (e.g. to run an MCP session manager).
    """
    env_cls, factory = resolve_env(env, env_kwargs)
    if max_sessions < 1:
        raise ValueError(f"max_sessions must be >= 1, got {max_sessions}")
    limits = (limits or ServerLimits()).resolved(max_sessions)
    config = ConfigHolder(env_cls.config_type) if env_cls.config_type is not None else None
    executor = make_executor(max_workers)
    sessions = SessionRegistry(
        factory,
        max_sessions=max_sessions,
        idle_timeout_s=idle_timeout_s,
        config=config,
        executor=executor,
        default_timeout_s=default_step_timeout_s,
        max_lifetime_s=limits.max_session_lifetime_s,
    )
    hooks: list[Lifespan] = list(lifespans)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for hook in list(hooks):
                await stack.enter_async_context(hook(app))
            sessions.start_reaper()
            try:
                yield
            finally:
                await sessions.shutdown()
                executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title=f"openenv_harness: {env_cls.name}", version=env_cls.version, lifespan=lifespan)
    app.state.sessions = sessions
    app.state.config = config
    app.state.env_class = env_cls
    app.state.lifespan_hooks = hooks
    app.state.max_frame_bytes = max_frame_bytes
    app.state.limits = limits
    # Plain JSON-RPC on POST /mcp (OpenEnv's validator and MCPToolClient); inside the body limit.
    app.add_middleware(
        PlainMCP, sessions=sessions, env_name=env_cls.name, registry=getattr(env_cls, "tool_registry", None)
    )
    app.add_middleware(BodyLimit, max_bytes=max_frame_bytes, timeout_s=limits.body_timeout_s)

    app.router.routes.append(WebSocketRoute("/ws", WebSocketEndpoint(sessions, max_frame_bytes)))
    for path, endpoint, methods in http_endpoints(sessions, max_frame_bytes):
        app.add_route(path, endpoint, methods=methods)
    _add_info_routes(app, env_cls, sessions)
    _add_config_routes(app, config, orchestrator_token, max_frame_bytes)
    install_openapi(app, env_cls, config)

    setup = getattr(env_cls, "setup_app", None)
    if callable(setup):
        setup(app, sessions)
    return app


def _add_info_routes(app: FastAPI, env_cls: type[Environment[Any, Any]], sessions: SessionRegistry) -> None:
    cache: dict[str, Any] = {}

    @app.get("/health")
    async def health() -> Response:
        """Liveness and session counts."""
        return json_response(
            {"status": "healthy", "sessions": len(sessions), "max_sessions": sessions.max_sessions}
        )

    @app.get("/metadata")
    async def metadata() -> Response:
        """The environment's metadata, plus which protocol extensions this server speaks."""
        if "metadata" not in cache:
            cache["metadata"] = {
                **env_cls.metadata().model_dump(mode="json"),
                "server": "openenv_harness",
                "protocol": PROTOCOL,
                "max_sessions": sessions.max_sessions,
                "idle_timeout_s": sessions.idle_timeout_s,
                "max_session_lifetime_s": sessions.max_lifetime_s,
            }
        return json_response(cache["metadata"])

    @app.get("/schema")
    async def schema() -> Response:
        """JSON schemas of action, observation, state and reward config."""
        if "schema" not in cache:  # built lazily: it costs milliseconds we do not want at start-up
            cache["schema"] = env_cls.schemas()
        return json_response(cache["schema"])


def _add_config_routes(
    app: FastAPI, config: ConfigHolder | None, token: str | None, max_frame_bytes: int
) -> None:
    def unsupported() -> Response:
        return error_response(
            EnvError(
                ErrorCode.UNSUPPORTED,
                f"{app.state.env_class.__name__} has no reward config (its config_type is None)",
            )
        )

    def refused(request: Request) -> Response | None:
        # The token guards reads too: the config (weights, thresholds) is the orchestrator's business.
        if token is None:
            return None
        auth = request.headers.get("authorization", "")
        scheme, _, sent = auth.partition(" ")
        if scheme.lower() != "bearer" or not sent:
            err = EnvError(
                ErrorCode.UNAUTHORIZED, f"{request.method} /config needs Authorization: Bearer <token>"
            )
            return json_response(err.to_wire(), 401, {"WWW-Authenticate": "Bearer"})
        if not hmac.compare_digest(sent.strip().encode(), token.encode()):
            err = EnvError(ErrorCode.UNAUTHORIZED, "the orchestrator token is wrong")
            return json_response(err.to_wire(), 403)
        return None

    async def config_route(request: Request) -> Response:
        """``GET``: the effective config, its schema and version; ``POST``: a partial update (next reset).

        Both need the token if one is set.

        One route for both methods (not two FastAPI routes): with two, a third method got a 405 whose
        ``Allow`` header named only the first route's method.
        """
        if (denied := refused(request)) is not None:
            return denied
        if config is None:
            return unsupported()
        if request.method == "GET":
            return json_response(config.snapshot())
        try:
            update = await read_json(request, max_frame_bytes, required=True)
            return json_response(config.update(update))
        except EnvError as err:
            return error_response(err)

    app.add_route("/config", config_route, methods=["GET", "POST"], include_in_schema=False)


__all__ = ["PROTOCOL", "Lifespan", "create_app", "resolve_env"]

"""``python -m openenv_harness.server --env echo``: serve one environment type, announce the URL.

Prints exactly one line ``LISTENING http://HOST:PORT`` to stdout (flushed) once the server accepts
connections, then serves until SIGINT/SIGTERM. Imports only the server (no Hydra), so it is healthy well
under a second after start.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m openenv_harness.server", description=__doc__.splitlines()[0])
    p.add_argument("--env", required=True, help="registered environment id (e.g. echo) or module:Class")
    p.add_argument("--env-kwargs", default=None, help="JSON object of constructor arguments")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--max-sessions", type=int, default=1024)
    p.add_argument("--idle-timeout-s", type=float, default=300.0)
    p.add_argument("--step-timeout-s", type=float, default=None, help="default timeout_s for reset/step")
    p.add_argument("--max-frame-bytes", type=int, default=1 << 20)
    p.add_argument(
        "--max-connections", type=int, default=None, help="TCP connections held at once (max-sessions + 128)"
    )
    p.add_argument("--header-timeout-s", type=float, default=10.0, help="time to send a full request head")
    p.add_argument("--body-timeout-s", type=float, default=30.0, help="time for a request body to arrive")
    p.add_argument(
        "--max-session-lifetime-s",
        type=float,
        default=24 * 3600.0,
        help="close sessions older than this however active (<= 0: no limit)",
    )
    p.add_argument("--token-env", default=None, help="name of an environment variable holding the token")
    p.add_argument("--log-level", default="warning")
    p.add_argument(
        "--parent-pid",
        type=int,
        default=None,
        help="shut down when this process is gone (providers pass their own pid, so a SIGKILLed "
        "orchestrator never leaves servers behind)",
    )
    p.add_argument(
        "--ws-compression", action="store_true", help="offer permessage-deflate (off: it costs CPU per frame)"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, build the app and serve it (returns the exit status)."""
    args = _parser().parse_args(argv)
    env_kwargs = None
    if args.env_kwargs:
        try:
            env_kwargs = json.loads(args.env_kwargs)
        except ValueError as exc:
            print(f"error: --env-kwargs is not valid JSON: {exc}", file=sys.stderr)
            return 2
        if not isinstance(env_kwargs, dict):
            print("error: --env-kwargs must be a JSON object", file=sys.stderr)
            return 2
    token = None
    if args.token_env:
        token = os.environ.get(args.token_env)
        if not token:
            print(f"error: environment variable {args.token_env} (--token-env) is not set", file=sys.stderr)
            return 2

    from openenv_harness.spec import Environment, resolve_target

    from ._app import create_app
    from ._limits import ServerLimits
    from ._serve import serve

    env: object = args.env
    if ":" in args.env:  # an import path rather than a registered id: only an Environment class resolves
        try:
            env = resolve_target(args.env, Environment, kind="Environment")
        except (ValueError, ImportError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    try:
        limits = ServerLimits(
            max_connections=args.max_connections,
            header_timeout_s=args.header_timeout_s,
            body_timeout_s=args.body_timeout_s,
            max_session_lifetime_s=args.max_session_lifetime_s,
        )
        app = create_app(
            env,  # type: ignore[arg-type]
            max_sessions=args.max_sessions,
            idle_timeout_s=args.idle_timeout_s,
            orchestrator_token=token,
            max_frame_bytes=args.max_frame_bytes,
            env_kwargs=env_kwargs,
            default_step_timeout_s=args.step_timeout_s,
            limits=limits,
        )
    except (ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def announce(url: str) -> None:
        print(f"LISTENING {url}", flush=True)

    if args.parent_pid is not None:
        _watch_parent(args.parent_pid)

    serve(
        app,
        args.host,
        args.port,
        on_listening=announce,
        log_level=args.log_level,
        ws_per_message_deflate=args.ws_compression,
    )
    _exit_past_stuck_threads()
    return 0


def _watch_parent(pid: int, interval_s: float = 1.0) -> None:
    """SIGTERM ourselves (a graceful shutdown) once ``pid`` is no longer our parent.

    A provider's ``stop()`` and ``atexit`` cover normal exits; this covers the orchestrator being SIGKILLed,
    after which the kernel re-parents us. Polling ``getppid`` is portable and costs nothing measurable.
    """
    import signal
    import threading
    import time

    def watch() -> None:
        while os.getppid() == pid:
            time.sleep(interval_s)
        os.kill(os.getpid(), signal.SIGTERM)

    if os.getppid() != pid:
        print(f"error: --parent-pid {pid} is not this process's parent", file=sys.stderr)
        raise SystemExit(2)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _exit_past_stuck_threads() -> None:
    """Exit now if environment code is still stuck in a worker thread after the graceful shutdown.

    The interpreter joins pool threads at exit, so a sync ``step`` that never returns (the reason its call
    timed out) would keep a stopped server alive forever. Every session has been closed by now.
    """
    import threading

    stuck = [
        t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()
    ]
    if stuck:
        print(f"exiting with {len(stuck)} environment call(s) still running", file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(0)


if __name__ == "__main__":
    sys.exit(main())

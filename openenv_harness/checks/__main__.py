"""``python -m openenv_harness.checks ENV_ID|URL [--oracle MODULE] [--served inprocess|ws] [--seeds 0 1 2]``.

Prints the report and exits 1 when a check failed. Without ``--oracle`` the env's ``envs.<id>.oracle`` module
is used when it exists
(``openenv_harness.envs.<id>.oracle``). Given a URL (``http://HOST:PORT``), the env served there is checked over the wire in
one session (OpenEnv apps hold one session by default), whoever wrote it: seeds are then compared within
that session. A plain OpenEnv server fails the checks of this project's extensions (``config_version`` in
reset metadata, ``reward_components``), which the report names.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from typing import Any

from . import check_env


def main(argv: list[str] | None = None) -> int:
    """Run ``check_env`` on a registered environment; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m openenv_harness.checks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("env", help="registered environment id (e.g. arith), or a server URL")
    parser.add_argument(
        "--oracle", default=None, help="oracle module (default: envs.<env>.oracle if present)"
    )
    parser.add_argument(
        "--served",
        choices=["bare", "inprocess", "ws"],
        default="bare",
        help="bare env instances, sessions of an InProcessProvider, or a local server over WS",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    oracle = args.oracle
    if args.env.startswith(("http://", "https://")):
        return _check_url(args.env, oracle, args.seeds)
    if oracle is None:
        try:
            if importlib.util.find_spec(f"openenv_harness.envs.{args.env}.oracle") is not None:
                oracle = f"openenv_harness.envs.{args.env}.oracle"
        except ModuleNotFoundError:  # the env does not live in envs/
            pass
    from ..spec import spec

    target: Any
    if args.served == "bare":
        target = spec(args.env).load()
        report = check_env(target, oracle=oracle, seeds=args.seeds)
    else:
        from ..runtime import InProcessProvider, LocalProcessProvider

        provider = (
            InProcessProvider(args.env) if args.served == "inprocess" else LocalProcessProvider(args.env)
        )
        with provider:
            report = check_env(provider, oracle=oracle, seeds=args.seeds)
    print(report)
    return 0 if report.ok else 1


def _check_url(url: str, oracle: str | None, seeds: list[int]) -> int:
    """Check the env served at ``url`` through one client session."""
    from ..runtime import RemoteProvider

    with RemoteProvider([url]) as provider:
        client = provider.client()
        try:
            report = check_env(client, oracle=oracle, seeds=seeds)
        finally:
            client.close()
    print(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""``env.version``: a run outside the range is refused before anything starts (local class or remote server)."""

import re

import pytest

from openenv_harness.config import compose_config
from openenv_harness.rollout._versions import check_env_version
from openenv_harness.server import create_app, serve_in_thread
from openenv_harness.spec import spec


def test_local_env_version_in_and_out_of_range():
    version = spec("arith").load().version
    assert check_env_version(compose_config(["env=arith", f"env.version='=={version}'"])) == {
        "local": version
    }
    assert check_env_version(compose_config(["env=arith"])) == {}  # unset: no check
    with pytest.raises(ValueError, match=rf"outside env.version='>=99': local serves {re.escape(version)};"):
        check_env_version(compose_config(["env=arith", "env.version='>=99'"]))
    with pytest.raises(ValueError, match="not a version range"):
        check_env_version(compose_config(["env=arith", "env.version=banana"]))


def test_remote_servers_report_their_version():
    with serve_in_thread(create_app("echo")) as url:
        ok = compose_config(["env=echo", "runtime=remote", f"runtime.urls=[{url}]", "env.version='>=0.1,<1'"])
        assert check_env_version(ok) == {url: spec("echo").load().version}
        bad = compose_config(["env=echo", "runtime=remote", f"runtime.urls=[{url}]", "env.version='>=2'"])
        with pytest.raises(ValueError, match=f"{url} serves"):
            check_env_version(bad)

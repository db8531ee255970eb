"""AutoEnv, ``image`` target: ``taskset.ref=REF`` alone runs an OpenEnv-native image with its own command.

The image (``tests/autoenv/guess_image``) holds no openenv_harness: a FastAPI app speaking OpenEnv's protocol,
served by the image's own ``CMD`` on port 8000, one session at a time. It is built offline here from the
project's base image and the server's locked wheels. The run must use the image's command (ours would not
even start in it), give the container the manifest's cpus/memory and secret, shrink the session pool to the
app's one session, and name the image id, the app's ``/metadata`` and the target in the bundle.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from autoenv.helpers import ROWS, cli, ok, write_taskset  # noqa: E402

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(600)]

SECRET = "guess-image-secret-93ab1"
REPO = "guess-image-test"


@pytest.fixture(scope="module")
def docker() -> Any:
    from openenv_harness.runtime._docker_engine import docker_client, engine_available

    ok, reason = engine_available()
    if not ok:
        warnings.warn(f"docker tests skipped: {reason}", stacklevel=1)
        pytest.skip(reason)
    client = docker_client(timeout_s=900)
    yield client
    client.close()


@pytest.fixture(scope="module")
def image(docker: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The guess image, built offline (cached by the hash of its context)."""
    from openenv_harness.runtime._docker_build import ensure_base_image, locked_wheels

    ctx = tmp_path_factory.mktemp("guess_image")
    src = ROOT / "tests" / "autoenv" / "guess_image"
    for name in ("Dockerfile", "app.py"):
        shutil.copy(src / name, ctx / name)
    (ctx / "rows.json").write_text(json.dumps(ROWS))
    (ctx / "wheels").mkdir()
    shutil.copy(ROOT / "docker" / "requirements-server.lock", ctx / "wheels" / "requirements-server.lock")
    for whl in locked_wheels().glob("*.whl"):
        shutil.copy(whl, ctx / "wheels" / whl.name)
    base = ensure_base_image(docker)
    h = hashlib.sha256(base.id.encode())
    for path in sorted(p for p in ctx.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(ctx)).encode() + b"\0" + path.read_bytes())
    tag = f"{REPO}:{h.hexdigest()[:12]}"
    try:
        docker.images.get(tag)
    except Exception:
        docker.images.build(
            path=str(ctx),
            tag=tag,
            buildargs={"BASE_IMAGE": base.id},
            network_mode="none",
            rm=True,
            pull=False,
        )
    for old in docker.images.list(name=REPO):  # earlier versions of the fixture
        if tag not in old.tags:
            with contextlib.suppress(Exception):
                docker.images.remove(old.id)
    return tag


def _managed(docker: Any) -> list[Any]:
    from openenv_harness.runtime._docker_engine import MANAGED_LABEL

    return docker.containers.list(all=True, filters={"label": f"{MANAGED_LABEL}=1"})


def test_image_target_runs_its_own_command_with_the_manifest_limits(
    docker: Any, image: str, tmp_path: Path
) -> None:
    taskset = write_taskset(
        tmp_path / "guess_image_ts",
        "guess-image",
        {
            "image": image,
            "secrets": ["GUESS_TOKEN"],
            "resources": {"cpus": 0.5, "memory": "256m", "pids": 64, "timeout": 20},
        },
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GUESS_TOKEN": SECRET}
    before = {c.id for c in _managed(docker)}
    common = [f"taskset.ref={taskset}", "taskset.trust_remote_code=true", "policy=scripted"]
    bundle = tmp_path / "bundle"
    proc = cli(tmp_path, env, "mode=eval", *common, "eval.limit=3", f"eval.out={bundle}")
    out = ok(proc)
    assert "eval guess-image:" in out and "errors 0.000" in out, out
    assert "reproducible True" in out
    assert "accept only 1 concurrent sessions" in out + proc.stderr  # the app's cap, learnt, not an error

    manifest = json.loads((bundle / "manifest.json").read_text())
    ran = manifest["environments"]["guess-image"]
    assert ran["runtime"] == "docker" and ran["image_digest"] == docker.images.get(image).id
    assert (ran["name"], ran["version"]) == ("guess_image_env", "1.4.0")  # the app's own /metadata
    target = ran["target"]
    assert (target["kind"], target["image"], target["secrets"]) == ("docker", image, ["GUESS_TOKEN"])
    assert target["limits"]["mem_limit"] == 256 * 1024**2

    records = [json.loads(line) for line in (bundle / "episodes.jsonl").read_text().splitlines()]
    assert len(records) == 3 and all(r["error"] is None for r in records)
    prompt = records[0]["transcript"][0]["prompt"]
    # Seen from inside the container: the manifest's memory and CPU share, and the secret (set, not shown).
    assert "secret_set: true" in prompt
    assert f'"memory": {256 * 1024**2}' in prompt and '"cpus": 0.5' in prompt, prompt

    run_dir = tmp_path / "run"
    out = ok(
        cli(
            tmp_path,
            env,
            *common,
            "learner=collect",
            "learner.max_steps=1",
            "logger=quiet",
            f"hydra.run.dir={run_dir}",
        )
    )
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "finished" and record["config"]["env"]["id"] == "guess-image"
    assert record["environment"]["targets"]["guess-image"]["image"] == image

    assert {c.id for c in _managed(docker)} <= before  # every container removed
    leaked = [str(p) for p in tmp_path.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaked == []

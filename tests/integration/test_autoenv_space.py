"""AutoEnv, ``space_id`` target: the Space's URL is where the env runs (a loopback server stands in for it).

A copy of ``tasksets/arith`` whose manifest says ``space_id: org/arith-space`` instead of a package. The
stand-in Space is an arith server on 127.0.0.1 bound to the same rows; ``taskset.space_url`` says where it
is (what a user does with a Space's image run locally). Offline and without that override, the run is
refused at once instead of hanging on ``https://org-arith-space.hf.space``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from autoenv.helpers import cli  # noqa: E402

OFFLINE = {**os.environ, "HF_HUB_OFFLINE": "1"}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture()
def space(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """(taskset folder with a space_id target, URL of the loopback server standing in for the Space)."""
    taskset = Path(shutil.copytree(ROOT / "tasksets" / "arith", tmp_path / "arith_space"))
    manifest = yaml.safe_load((taskset / "environment.yaml").read_text())
    block = manifest["environments"][0]["frameworks"]["openenv"]
    for key in ("package", "env"):
        block.pop(key)
    block["space_id"] = "org/arith-space"
    (taskset / "environment.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    log = (tmp_path / "space.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "openenv_harness.server", "--env", "arith", "--port", "0"]
        + ["--env-kwargs", json.dumps({"taskset": str(ROOT / "tasksets" / "arith")})],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        url = None
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            for line in (tmp_path / "space.log").read_text().splitlines():
                if line.startswith("LISTENING "):
                    url = line.split()[1]
            time.sleep(0.1)
        assert url, (tmp_path / "space.log").read_text()[-2000:]
        yield taskset, url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_space_target_runs_at_the_space_url(space: tuple[Path, str], tmp_path: Path) -> None:
    taskset, url = space
    bundle = tmp_path / "bundle"
    proc = cli(
        tmp_path,
        OFFLINE,
        "mode=eval",
        f"taskset.ref={taskset}",
        f"taskset.space_url={url}",
        "policy=scripted",
        "eval.limit=3",
        f"eval.out={bundle}",
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert "eval arith:" in proc.stdout and "errors 0.000" in proc.stdout
    ran = json.loads((bundle / "manifest.json").read_text())["environments"]["arith"]
    assert ran["runtime"] == "remote" and [s["url"] for s in ran["servers"]] == [url]
    target = ran["target"]
    assert (target["kind"], target["space_id"], target["url"]) == ("remote", "org/arith-space", url)
    config = yaml.safe_load((bundle / "config.yaml").read_text())
    assert config["runtime"]["urls"] == [url] and config["env"]["id"] == "arith"


def test_space_target_offline_without_a_url_is_refused_at_once(
    space: tuple[Path, str], tmp_path: Path
) -> None:
    taskset, _ = space
    t0 = time.monotonic()
    proc = cli(
        tmp_path,
        OFFLINE,
        "mode=eval",
        f"taskset.ref={taskset}",
        "policy=scripted",
        f"eval.out={tmp_path / 'b'}",
    )
    assert proc.returncode == 1 and time.monotonic() - t0 < 60
    assert proc.stderr.startswith(f"error: taskset.ref={taskset}: environment 'arith' runs on the Space")
    assert "taskset.space_url=URL" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "b").exists()

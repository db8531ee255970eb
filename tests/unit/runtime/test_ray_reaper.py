"""The local Ray instance's watchdog: once its parent is gone it kills the instance's processes, removes the dir."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from openenv_harness.runtime import _ray_reaper


def test_reaper_kills_what_names_the_dir_once_its_parent_is_gone(tmp_path: Path) -> None:
    marker = tmp_path / "oh-ray-x"
    marker.mkdir()
    # A stand-in for a Ray daemon left behind: its command line names the instance's dir.
    daemon = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", str(marker)])
    # The watchdog's parent: a shell that exits at once, as a SIGKILLed harness would.
    parent = subprocess.Popen(
        ["sh", "-c", f'"{sys.executable}" "{_ray_reaper.__file__}" $$ "{marker}" & sleep 0.5'],
        start_new_session=True,
    )
    parent.wait(10)
    deadline = time.monotonic() + 15
    while daemon.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert daemon.poll() is not None, "the left-behind process was not reaped"
    deadline = time.monotonic() + 5
    while marker.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not marker.exists()


def test_instance_pids_sees_only_matching_processes(tmp_path: Path) -> None:
    marker = str(tmp_path / "oh-ray-y")
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", marker])
    try:
        time.sleep(0.2)
        assert _ray_reaper.instance_pids(marker) == [proc.pid]
        assert _ray_reaper.instance_pids(str(tmp_path / "nothing")) == []
    finally:
        proc.kill()
        proc.wait()

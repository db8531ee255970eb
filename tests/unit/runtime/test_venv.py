"""Package venv keys: what makes a venv reusable, and refusals that need no venv at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from openenv_harness.runtime._venv import PackageVenvError, package_venv, venv_key


def test_key_follows_the_requirement_and_the_bytes_of_a_local_wheel(tmp_path: Path) -> None:
    wheel = tmp_path / "toy-0.1-py3-none-any.whl"
    wheel.write_bytes(b"one")
    req = f"toy @ {wheel.as_uri()}"
    first = venv_key(req)
    assert venv_key(req) == first  # stable: the same inputs reuse the venv
    assert venv_key("toy==0.1") != first
    wheel.write_bytes(b"two")  # same name, other content: another venv
    assert venv_key(req) != first


def test_bad_requirement_is_refused_before_any_venv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENENV_HARNESS_VENVS", str(tmp_path / "venvs"))
    with pytest.raises(PackageVenvError, match="is not a pip requirement"):
        package_venv("not a requirement !!", "toy")
    assert not (tmp_path / "venvs").exists()

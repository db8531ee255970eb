"""Inputs of the env-image build, checked without an engine: what the content hash sees, wheels, the lock."""

from __future__ import annotations

import hashlib
from pathlib import Path

from openenv_harness.runtime import _docker_build as build


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    build._hash_tree(h, root, "pkg")
    return h.hexdigest()


def test_content_hash_follows_sources_and_ignores_bytecode(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "__pycache__").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    first = _digest(tmp_path)
    (pkg / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0junk")
    (pkg / "b.pyc").write_bytes(b"\0junk")
    assert _digest(tmp_path) == first
    (pkg / "a.py").write_text("x = 2\n")
    assert _digest(tmp_path) != first
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "c.py").write_text("")  # a new file, even empty, is a new input
    assert _digest(tmp_path) != first


def test_env_hash_depends_on_the_base_image_and_env(tmp_path):
    a = build.env_content_hash("echo", "sha256:aaa")
    assert a == build.env_content_hash("echo", "sha256:aaa")
    assert a != build.env_content_hash("echo", "sha256:bbb")


def test_env_folder_and_checkout_are_found():
    root = build.project_root()
    assert (root / "docker" / "env.Dockerfile").is_file()
    assert build.env_folder("echo") == root / "envs" / "echo"


def test_wheels_are_asked_for_the_image_python_and_both_manylinux_tags():
    args = build._platform_args()
    assert "--only-binary=:all:" in args and args[args.index("--python-version") + 1] == "3.11"
    platforms = [args[i + 1] for i, a in enumerate(args) if a == "--platform"]
    assert any(p.startswith("manylinux_2_28_") for p in platforms)
    assert any(p.startswith("manylinux2014_") for p in platforms)


def test_lock_pins_every_server_dependency_with_a_hash():
    lock = (build.project_root() / "docker" / "requirements-server.lock").read_text()
    pins = [line for line in lock.splitlines() if "==" in line]
    names = {p.split("==")[0] for p in pins}
    assert {"fastapi", "uvicorn", "pydantic", "websockets", "httpx", "pyyaml", "starlette"} <= names
    assert lock.count("--hash=sha256:") == len(pins)
    top = (build.project_root() / "docker" / "requirements-server.in").read_text()
    for line in top.splitlines():
        if line and not line.startswith("#"):
            assert line.lower() in {p.strip(" \\").lower() for p in pins}, line

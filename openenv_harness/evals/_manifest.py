"""The bundle manifest: every version and content hash that can change an eval's result.

``verify`` compares a re-run's manifest with the stored one field by field, so a drift in results can be
explained ("the dataset's content hash changed", "the policy weights changed") rather than just reported.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

KEY_PACKAGES = (
    "openenv-harness",
    "pydantic",
    "fastapi",
    "uvicorn",
    "websockets",
    "httpx",
    "hydra-core",
    "datasets",
    "huggingface-hub",
    "torch",
    "transformers",
    "trl",
    "peft",
    "mcp",
)

# Fields whose change means "a different experiment" rather than "a different machine": verify reports a
# change in any of them as the cause of drift. Package versions and platform are informational.
IDENTITY_FIELDS = ("suite_hash", "policy", "datasets", "environments", "judges")


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str | None]:
    """Installed versions of the key packages (None when not installed)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit(cwd: Path | None = None) -> dict[str, Any]:
    """The git commit of our source tree and whether it had uncommitted changes (None outside git)."""
    root = Path(cwd or Path(__file__).resolve().parents[2])
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": sha, "dirty": bool(dirty)}


def hash_file(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def hash_tree(root: Path, patterns: tuple[str, ...] = ("*",)) -> str:
    """SHA-256 over the relative paths and bytes of every file under ``root`` (sorted, so order-free)."""
    h = hashlib.sha256()
    root = Path(root)
    files = sorted({p for pat in patterns for p in root.rglob(pat) if p.is_file()})
    for p in files:
        if "__pycache__" in p.parts:
            continue
        h.update(str(p.relative_to(root)).encode())
        h.update(b"\0")
        h.update(hash_file(p).encode())
    return h.hexdigest()


def weights_hash(model: Any) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of a torch model's ``state_dict`` (sorted by name).

    Identifies a model that exists only in memory, such as the one a learner is training, the way
    :func:`hash_tree` identifies a saved one.
    """
    import torch  # late: a manifest needs torch only when it hashes a model in memory

    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous().view(-1)
        h.update(f"{name}\0{t.dtype}\0{tuple(tensor.shape)}\0".encode())
        h.update(t.view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


ENV_SOURCE_PATTERNS = ("*.py", "*.txt", "*.json", "*.yaml")
"""Files of an env's folder that make its source hash (code and data; not its README)."""


def environment_identity(env_id: str) -> dict[str, Any]:
    """Identity of an environment type: its entry point, declared version and a hash of its source folder."""
    from openenv_harness.spec import spec

    s = spec(env_id)
    cls = s.load()
    module_file = Path(sys.modules[cls.__module__].__file__ or "")
    return {
        "id": env_id,
        "entry_point": s.entry_point,
        "version": getattr(cls, "version", None),
        "source_hash": hash_tree(module_file.parent, ENV_SOURCE_PATTERNS),
    }


def judges_of(env_id: str, env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Model judges / MCP tools the environment's rubric calls (model ids, prompts, sampling), by dotted name.

    The environment is instantiated locally just to read its rubric tree; an environment that cannot be
    built here (e.g. it needs a resource only its container has) is recorded as such instead of failing.
    """
    from openenv_harness.rubric import Rubric, describe_judges
    from openenv_harness.spec import make

    try:
        env = make(env_id, **env_kwargs)
    except Exception as exc:  # noqa: BLE001 - recorded, never fatal: the eval itself runs in the servers
        return {"unavailable": f"{type(exc).__name__}: {exc}"}
    try:
        rubric = getattr(env, "rubric", None)
        return describe_judges(rubric) if isinstance(rubric, Rubric) else {}
    finally:
        env.close()


def build_manifest(
    *,
    suite_hash: str,
    policy: dict[str, Any],
    datasets: dict[str, Any],
    environments: dict[str, Any],
    judges: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the manifest written to ``manifest.json``.

    Args:
        suite_hash: Stable hash of the suite.
        policy: Policy identity (model file hash or endpoint + model name) and sampling parameters.
        datasets: Per eval: taskset reference, resolved revision, content hash.
        environments: Per eval: environment identity (see :func:`environment_identity`) and image digest
            when run in Docker.
        judges: Judge model ids and prompts used by rubrics, if any.
    """
    from openenv_harness import __version__

    return {
        "openenv_harness": {"version": __version__, **git_commit()},
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "suite_hash": suite_hash,
        "policy": policy,
        "datasets": datasets,
        "environments": environments,
        "judges": judges or {},
    }

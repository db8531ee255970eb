"""Taskset references and their resolution to a pinned, hashed folder whose rows load through ``datasets``.

Reference forms:

* ``hf://datasets/{org}/{name}/{environment_id}@{revision}``: a hub dataset repo. ``/{environment_id}`` may
  be left out when the manifest declares one environment; ``@{revision}`` defaults to ``main``. Resolved with
  ``huggingface_hub.snapshot_download(repo_type="dataset", revision=...)``, which works offline
  (``HF_HUB_OFFLINE=1``) from the local hub cache; the revision is recorded as the snapshot's commit sha.
* ``path/to/taskset`` or ``path/to/taskset#environment_id``: a local folder. A relative path is looked up in
  the working directory first, then in the project root (so ``tasksets/arith`` works from any directory of
  a source checkout). Local folders have no revision; their ``content_hash`` identifies them.

Both forms record ``content_hash``: sha256 over the sorted relative paths and bytes of every file.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._layout import data_root
from ._manifest import MANIFEST_NAME, EnvironmentEntry, Manifest, ManifestError, ManifestIssue, load_manifest

_HF_PREFIX = "hf://datasets/"
_PROJECT_ROOT = data_root()  # the checkout, or the wheel's _data (shipped tasksets/)
_SKIP_DIRS = {".git", ".cache", ".huggingface", "__pycache__"}


class TasksetError(ValueError):
    """A taskset reference cannot be resolved, loaded or run (the message says why and what to do)."""


@dataclass(frozen=True)
class TasksetRef:
    """A parsed reference.

    Attributes:
        raw: The reference as given.
        kind: ``hf`` or ``local``.
        location: Repo id (``org/name``) or local path.
        env_id: Environment id from the reference, or None (then the manifest must declare exactly one).
        revision: Requested hub revision (``hf`` only).
    """

    raw: str
    kind: str
    location: str
    env_id: str | None = None
    revision: str | None = None


def parse_ref(ref: str) -> TasksetRef:
    """Parse ``hf://datasets/org/name[/env][@rev]`` or ``path[#env]``.

    Raises:
        TasksetError: for an ``hf://`` reference that is not ``hf://datasets/org/name[/env][@rev]``.
    """
    ref = ref.strip()
    if ref.startswith("hf://"):
        if not ref.startswith(_HF_PREFIX):
            raise TasksetError(f"{ref!r}: only dataset repos are supported (hf://datasets/ORG/NAME/ENV@REV)")
        body, _, revision = ref[len(_HF_PREFIX) :].partition("@")
        parts = [p for p in body.split("/") if p]
        if len(parts) not in (2, 3) or (revision == "" and "@" in ref):
            raise TasksetError(f"{ref!r}: expected hf://datasets/ORG/NAME/ENVIRONMENT_ID@REVISION")
        env_id = parts[2] if len(parts) == 3 else None
        return TasksetRef(ref, "hf", "/".join(parts[:2]), env_id, revision or None)
    path, _, env_id = ref.partition("#")
    return TasksetRef(ref, "local", path, env_id or None)


def content_hash(root: Path) -> str:
    """``sha256:...`` over every file's relative path and bytes (sorted; VCS and cache folders skipped)."""
    h = hashlib.sha256()
    files = sorted(
        p for p in root.rglob("*") if p.is_file() and not _SKIP_DIRS.intersection(p.relative_to(root).parts)
    )
    for p in files:
        h.update(p.relative_to(root).as_posix().encode() + b"\0")
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return "sha256:" + h.hexdigest()


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _snapshot(ref: TasksetRef) -> tuple[Path, str]:
    from huggingface_hub import snapshot_download

    revision = ref.revision or "main"
    try:
        folder = None
        if re.fullmatch(r"[0-9a-f]{40}", revision):
            # A commit sha is immutable: a cached snapshot is authoritative, so skip the network round trip
            # (without HF_HUB_OFFLINE an unreachable hub otherwise costs a long timeout).
            try:
                folder = Path(
                    snapshot_download(
                        ref.location, repo_type="dataset", revision=revision, local_files_only=True
                    )
                )
            except Exception:  # not cached (or partially): fall through to a normal download
                folder = None
        if folder is None:
            folder = Path(snapshot_download(ref.location, repo_type="dataset", revision=revision))
    except Exception as exc:  # many error types (offline, 404, revision not found); report them all alike
        hint = (
            " (HF_HUB_OFFLINE is set: only revisions already in the local hub cache resolve)"
            if _hub_offline()
            else ""
        )
        raise TasksetError(
            f"{ref.raw}: cannot get dataset {ref.location!r} at revision {revision!r}{hint}: "
            f"{type(exc).__name__}: {exc}"
        ) from None
    # Snapshot folders are named by commit sha, so this pins whatever branch/tag was asked for.
    sha = folder.name
    if not re.fullmatch(r"[0-9a-f]{40}", sha):
        raise TasksetError(f"{ref.raw}: snapshot folder {folder} is not named by a commit sha")
    return folder, sha


def _local_root(ref: TasksetRef) -> Path:
    path = Path(ref.location).expanduser()
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, _PROJECT_ROOT / path]
    for c in candidates:
        if (c / MANIFEST_NAME).is_file():
            return c.resolve()
    looked = ", ".join(str(c) for c in candidates)
    raise TasksetError(f"{ref.raw}: no taskset folder with {MANIFEST_NAME} found (looked in {looked})")


def locate(ref: TasksetRef) -> tuple[Path, str | None]:
    """The local folder of a reference and its pinned revision (commit sha for hub refs, None for local).

    Raises:
        TasksetError: when the folder or snapshot cannot be found.
    """
    if ref.kind == "hf":
        return _snapshot(ref)
    return _local_root(ref), None


def check_splits_exist(root: Path, entry: EnvironmentEntry) -> None:
    """Raise :class:`ManifestError` (field ``splits``) if a declared split is missing from the data."""
    have = data_splits(root, entry.config_name)
    missing = [s for s in entry.splits if s not in have]
    if missing:
        raise ManifestError(
            [
                ManifestIssue(
                    str(root / MANIFEST_NAME),
                    entry.id,
                    "splits",
                    f"split(s) {', '.join(missing)} not found in the data (it has: {', '.join(have) or 'none'})",
                )
            ]
        )


def data_splits(root: Path, config_name: str | None) -> list[str]:
    """Split names the data declares (README ``configs:`` block, else ``datasets``' file-name conventions)."""
    import datasets

    try:
        builder = datasets.load_dataset_builder(str(root), config_name)
    except Exception as exc:  # datasets raises ValueError/FileNotFoundError/DataFilesNotFoundError here
        raise TasksetError(f"{root}: cannot read the data files (config {config_name!r}): {exc}") from None
    files = builder.config.data_files or {}
    return [str(s) for s in files]


@dataclass
class ResolvedTaskset:
    """A taskset pinned to one revision/content hash, with its manifest entry.

    Attributes:
        ref: The parsed reference.
        root: Local folder holding the files (a hub snapshot or the local folder).
        manifest: The whole manifest.
        entry: The selected environment.
        revision: Commit sha (hub) or None (local).
        content_hash: ``sha256:...`` of the folder's files.
    """

    ref: TasksetRef
    root: Path
    manifest: Manifest
    entry: EnvironmentEntry
    revision: str | None
    content_hash: str
    _rows: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def splits(self) -> list[str]:
        """The entry's splits."""
        return list(self.entry.splits)

    @property
    def hidden_columns(self) -> list[str]:
        """Ground-truth columns declared in ``frameworks.openenv.hidden_columns``."""
        return list(self.entry.openenv.hidden_columns)

    @property
    def pinned_ref(self) -> str:
        """A reference that resolves to exactly this content again (hub: pinned to the commit sha)."""
        if self.ref.kind == "hf":
            return f"{_HF_PREFIX}{self.ref.location}/{self.entry.id}@{self.revision}"
        return f"{self.ref.location}#{self.entry.id}"

    def rows(self, split: str) -> Any:
        """The split's rows as a ``datasets.Dataset`` (loaded once, then cached).

        Raises:
            TasksetError: if ``split`` is not one of the entry's splits.
        """
        if split not in self.entry.splits:
            raise TasksetError(
                f"split {split!r} is not declared for environment {self.entry.id!r}; "
                f"use one of: {', '.join(self.entry.splits)}"
            )
        with self._lock:  # environments in a server share one ResolvedTaskset across session threads
            if split not in self._rows:
                import datasets

                self._rows[split] = datasets.load_dataset(str(self.root), self.entry.config_name, split=split)
            return self._rows[split]

    def record(self) -> dict[str, Any]:
        """What an eval bundle records about this taskset (no secret values, no rows)."""
        return {
            "ref": self.ref.raw,
            "pinned_ref": self.pinned_ref,
            "environment_id": self.entry.id,
            "revision": self.revision,
            "content_hash": self.content_hash,
            "splits": self.splits,
            "runtime_target": self.entry.openenv.target,
        }


def resolve(ref: str | TasksetRef, *, check_splits: bool = True) -> ResolvedTaskset:
    """Resolve a reference: fetch/locate the folder, validate the manifest, pin the revision, hash the files.

    Args:
        ref: A reference string (see the module docstring) or a parsed :class:`TasksetRef`.
        check_splits: Verify that every declared split exists in the data files.

    Raises:
        TasksetError: unresolvable reference or unknown environment id.
        ManifestError: an invalid manifest, or splits missing from the data (naming file, env id, field).
    """
    parsed = parse_ref(ref) if isinstance(ref, str) else ref
    root, revision = locate(parsed)
    manifest = load_manifest(root)
    try:
        entry = manifest.entry(parsed.env_id)
    except KeyError as exc:
        raise TasksetError(f"{parsed.raw}: {exc.args[0]}") from None
    if check_splits:
        check_splits_exist(root, entry)
    return ResolvedTaskset(parsed, root, manifest, entry, revision, content_hash(root))


_shared: dict[str, ResolvedTaskset] = {}
_shared_lock = threading.Lock()


def resolve_shared(ref: str) -> ResolvedTaskset:
    """:func:`resolve` once per process and reference string, then reuse the result.

    Servers build one environment instance per session; sharing the resolved taskset keeps that cheap
    and guarantees every session of a process sees the same revision (an unpinned hub ref is pinned at its
    first resolution).
    """
    with _shared_lock:
        if ref not in _shared:
            _shared[ref] = resolve(ref)
        return _shared[ref]

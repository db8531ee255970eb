"""References: parsing, local folders, and hf:// from a local hub cache at pinned revisions (offline)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from taskset_helpers import HubCache, manifest, toy_rows, write_taskset

from openenv_harness.tasks import TasksetError, TaskSource, content_hash, parse_ref, resolve


@pytest.mark.parametrize(
    ("ref", "kind", "location", "env_id", "revision"),
    [
        ("hf://datasets/org/name/env@abc", "hf", "org/name", "env", "abc"),
        ("hf://datasets/org/name/env", "hf", "org/name", "env", None),
        ("hf://datasets/org/name", "hf", "org/name", None, None),
        ("hf://datasets/org/name@v1.0", "hf", "org/name", None, "v1.0"),
        ("tasksets/arith", "local", "tasksets/arith", None, None),
        ("/abs/dir#coding", "local", "/abs/dir", "coding", None),
    ],
)
def test_parse_ref(ref: str, kind: str, location: str, env_id: str | None, revision: str | None) -> None:
    parsed = parse_ref(ref)
    assert (parsed.kind, parsed.location, parsed.env_id, parsed.revision) == (
        kind,
        location,
        env_id,
        revision,
    )


@pytest.mark.parametrize(
    ("ref", "fragment"),
    [
        ("hf://models/org/name", "only dataset repos"),
        ("hf://datasets/justone", "expected hf://datasets/ORG/NAME/ENVIRONMENT_ID@REVISION"),
        ("hf://datasets/a/b/c/d", "expected hf://datasets/"),
        ("hf://datasets/a/b@", "expected hf://datasets/"),
    ],
)
def test_bad_refs(ref: str, fragment: str) -> None:
    with pytest.raises(TasksetError, match=fragment.replace("/", ".")):
        parse_ref(ref)


def test_local_folder_records_content_hash(tmp_path: Path) -> None:
    root = write_taskset(tmp_path / "ts")
    ts = resolve(str(root))
    assert ts.revision is None
    assert ts.content_hash == content_hash(root) and ts.content_hash.startswith("sha256:")
    assert ts.splits == ["train", "test"] and len(ts.rows("test")) == 4
    assert ts.record()["pinned_ref"] == f"{root}#toy"
    (root / "data" / "extra.txt").write_text("changed")
    assert content_hash(root) != ts.content_hash  # any byte change changes the identity


def test_relative_ref_resolves_from_project_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no tasksets/ here: falls back to the project root
    ts = resolve("tasksets/arith")
    assert ts.entry.id == "arith" and ts.root.name == "arith"


def test_missing_local_folder(tmp_path: Path) -> None:
    with pytest.raises(TasksetError, match="no taskset folder with environment.yaml found"):
        resolve(str(tmp_path / "nowhere"))


def test_hf_ref_resolves_offline_at_pinned_revision(hub_cache: HubCache) -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    old = hub_cache.add_revision(
        "org/toys", "v1", branch=None, splits={"train": toy_rows("train", 3), "test": toy_rows("test", 2)}
    )
    new = hub_cache.add_revision(
        "org/toys", "v2", splits={"train": toy_rows("train", 7), "test": toy_rows("test", 2)}
    )

    latest = resolve("hf://datasets/org/toys/toy")  # default branch -> recorded as a commit sha
    assert latest.revision == new and len(latest.rows("train")) == 7
    assert latest.pinned_ref == f"hf://datasets/org/toys/toy@{new}"

    pinned = resolve(f"hf://datasets/org/toys/toy@{old}")
    assert pinned.revision == old and len(pinned.rows("train")) == 3
    assert pinned.content_hash != latest.content_hash

    # The pinned reference resolves to the same content again, and tasks load through it.
    again = resolve(latest.pinned_ref)
    assert again.content_hash == latest.content_hash
    task = TaskSource(again).select(seed=1, split="train")
    assert task.reset_kwargs["question"].startswith("What is")


def test_hf_unknown_revision_offline_is_a_clear_error(hub_cache: HubCache) -> None:
    hub_cache.add_revision("org/toys", "v1")
    with pytest.raises(
        TasksetError, match="HF_HUB_OFFLINE is set: only revisions already in the local hub cache"
    ):
        resolve("hf://datasets/org/toys/toy@" + "0" * 40)
    with pytest.raises(TasksetError, match="cannot get dataset 'org/other'"):
        resolve("hf://datasets/org/other/toy")


def test_hf_multi_env_manifest_needs_an_id(hub_cache: HubCache) -> None:
    m = manifest()
    second = dict(m["environments"][0], id="toy-hard")
    m["environments"].append(second)
    hub_cache.add_revision("org/multi", "v1", man=m)
    with pytest.raises(TasksetError, match="declares several environments"):
        resolve("hf://datasets/org/multi")
    assert resolve("hf://datasets/org/multi/toy-hard").entry.id == "toy-hard"


def test_row_formats_jsonl(tmp_path: Path) -> None:
    """jsonl data files load the same way (datasets' conventions), no README needed."""
    root = tmp_path / "ts"
    write_taskset(root, manifest(config_name=None))
    (root / "README.md").unlink()
    for split in ("train", "test"):
        (root / "data" / f"{split}.parquet").unlink()
        import json

        lines = [json.dumps(r) for r in toy_rows(split, 3)]
        (root / "data" / f"{split}.jsonl").write_text("\n".join(lines) + "\n")
    ts = resolve(str(root))
    assert len(ts.rows("train")) == 3
    assert ts.rows("train")[0]["openenv_reset"] == {"question": "What is 0 + 1?"}


def test_pinned_sha_is_served_from_cache_without_the_network(
    hub_cache: HubCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the hub reachable in principle (not offline), a cached commit sha never triggers a request."""
    import huggingface_hub.constants as constants

    sha = hub_cache.add_revision("org/toys", "v1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # a request would fail at once, not hang
    assert resolve(f"hf://datasets/org/toys/toy@{sha}").revision == sha

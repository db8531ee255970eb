"""environment.yaml schema: valid manifests parse; each broken one fails naming file, environment and field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from taskset_helpers import manifest, write_taskset

from openenv_harness.tasks import ManifestError, load_manifest, parse_manifest, resolve


def test_valid_manifest_parses_and_keeps_other_frameworks() -> None:
    m = parse_manifest(manifest(), "environment.yaml")
    entry = m.entry("toy")
    assert entry.openenv.target == "package"
    assert entry.openenv.hidden_columns == ["answer"]
    assert entry.openenv.resources.memory == "256m"
    assert entry.frameworks.model_extra == {"verifiers": {"adapter": "some.module:Class"}}
    assert m.entry(None) is entry  # a single environment needs no id


def test_shipped_manifests_parse() -> None:
    root = Path(__file__).resolve().parents[3] / "tasksets"
    assert load_manifest(root / "arith").entry("arith").openenv.hidden_columns == ["answer"]
    he = load_manifest(root / "humaneval").entry("coding")
    # The converted (args, expected) cases are ground truth too (the verifier grades with them).
    assert set(he.openenv.hidden_columns) == {"test", "canonical_solution", "cases"}


def _openenv(**changes: Any) -> dict[str, Any]:
    block = copy.deepcopy(manifest()["environments"][0]["frameworks"]["openenv"])
    for k, v in changes.items():
        if v is None:
            block.pop(k, None)
        else:
            block[k] = v
    return block


def _with_openenv(**changes: Any) -> dict[str, Any]:
    return manifest(frameworks={"openenv": _openenv(**changes)})


def _two_envs_same_id() -> dict[str, Any]:
    m = manifest()
    m["environments"].append(copy.deepcopy(m["environments"][0]))
    return m


# (case, manifest document, expected env id in the message (None: manifest-level), field, message fragment)
BROKEN: list[tuple[str, Any, str | None, str, str]] = [
    ("no target", _with_openenv(package=None, env=None), "toy", "frameworks.openenv", "got none"),
    (
        "two targets",
        _with_openenv(image="ghcr.io/x/y:1"),
        "toy",
        "frameworks.openenv",
        "exactly one runtime target of image, package, space_id is required; got image, package",
    ),
    (
        "env without package",
        _with_openenv(package=None, env="x", image="img:1"),
        "toy",
        "frameworks.openenv",
        "'env' only applies",
    ),
    ("bad id", manifest(id="Toy Env"), "Toy Env", "id", "is not a valid id"),
    ("slash in id", manifest(id="a/b"), "a/b", "id", "no '/'"),
    ("duplicate id", _two_envs_same_id(), "toy", "id", "duplicate environment id"),
    ("no splits", manifest(splits=[]), "toy", "splits", "at least 1 item"),
    ("unknown field", manifest(splitz=["train"]), "toy", "splitz", "unknown field"),
    (
        "no openenv block",
        manifest(frameworks={"verifiers": {}}),
        "toy",
        "frameworks.openenv",
        "Field required",
    ),
    (
        "bad min_version",
        _with_openenv(min_version="soon"),
        "toy",
        "frameworks.openenv.min_version",
        "not a version",
    ),
    (
        "bad memory",
        _with_openenv(resources={"memory": "lots"}),
        "toy",
        "frameworks.openenv.resources.memory",
        "cannot read memory size",
    ),
    (
        "negative cpus",
        _with_openenv(resources={"cpus": -1}),
        "toy",
        "frameworks.openenv.resources.cpus",
        "greater than 0",
    ),
    (
        "resource typo",
        _with_openenv(resources={"mem": "1g"}),
        "toy",
        "frameworks.openenv.resources.mem",
        "unknown field",
    ),
    (
        "secret value instead of name",
        _with_openenv(secrets=["sk-abc123"]),
        "toy",
        "frameworks.openenv.secrets",
        "environment variable names",
    ),
    (
        "bad space id",
        _with_openenv(package=None, env=None, space_id="just-a-name"),
        "toy",
        "frameworks.openenv.space_id",
        "not a Space id",
    ),
    (
        "control column hidden",
        _with_openenv(hidden_columns=["openenv_reset"]),
        "toy",
        "frameworks.openenv.hidden_columns",
        "cannot be hidden columns",
    ),
    ("spec version", {**manifest(), "spec_version": "9"}, None, "spec_version", "unsupported spec_version"),
    (
        "no environments",
        {"spec_version": "hf-rl-env-0.1", "environments": []},
        None,
        "environments",
        "at least 1 item",
    ),
    ("not a mapping", ["a", "list"], None, "<root>", "must be a mapping"),
]


@pytest.mark.parametrize(("case", "doc", "env_id", "field", "fragment"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_manifest_messages(
    tmp_path: Path, case: str, doc: Any, env_id: str | None, field: str, fragment: str
) -> None:
    path = tmp_path / "environment.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path)
    issues = info.value.issues
    match = [i for i in issues if i.field == field and i.env_id == env_id]
    assert match, f"{case}: no issue for field {field!r} / env {env_id!r} in {issues}"
    assert fragment in match[0].message
    text = str(info.value)
    assert str(path) in text and field in text
    if env_id:
        assert f"environment {env_id!r}" in text


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    doc = manifest(splits=[], frameworks={"openenv": _openenv(image="img:1", min_version="x")})
    with pytest.raises(ManifestError) as info:
        parse_manifest(doc, "m.yaml")
    assert {i.field for i in info.value.issues} >= {"splits", "frameworks.openenv.min_version"}


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no environment.yaml at the taskset root"):
        load_manifest(tmp_path)
    (tmp_path / "environment.yaml").write_text("environments: [unclosed")
    with pytest.raises(ManifestError, match="not valid YAML"):
        load_manifest(tmp_path)


def test_split_missing_from_data_names_the_field(tmp_path: Path) -> None:
    root = write_taskset(tmp_path / "ts", manifest(splits=["train", "validation"]))
    with pytest.raises(ManifestError) as info:
        resolve(str(root))
    (issue,) = info.value.issues
    assert (issue.env_id, issue.field) == ("toy", "splits")
    assert "validation not found in the data" in issue.message and "train, test" in issue.message
    assert str(root / "environment.yaml") in str(info.value)


def test_unknown_environment_id(tmp_path: Path) -> None:
    root = write_taskset(tmp_path / "ts")
    from openenv_harness.tasks import TasksetError

    with pytest.raises(TasksetError, match="no environment 'nope' in the manifest; it declares: toy"):
        resolve(f"{root}#nope")

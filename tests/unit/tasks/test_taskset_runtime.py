"""Runtime targets: provider kwargs, trust_remote_code refusal, offline Spaces, secrets never logged/written."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from taskset_helpers import manifest, write_taskset

from openenv_harness.tasks import (
    ResolvedTaskset,
    TasksetError,
    parse_manifest,
    read_secrets,
    resolve,
    runtime_for,
    space_url,
    validate_taskset,
)

SECRET = "sk-live-0123456789abcdef"


def _entry(**openenv: Any):  # type: ignore[no-untyped-def]
    block = {"min_version": "0.1.0", "resources": {"cpus": 0.5, "memory": "1g", "pids": 16, "timeout": 20}}
    block.update(openenv)
    return parse_manifest(manifest(frameworks={"openenv": block}), "environment.yaml").entry("toy")


def test_image_maps_to_docker_limits() -> None:
    t = runtime_for(_entry(image="ghcr.io/org/env:1.2"), trust_remote_code=True)
    assert (t.kind, t.image, t.env_id) == ("docker", "ghcr.io/org/env:1.2", "toy")
    assert t.limits == {
        "cpus": 0.5,
        "nano_cpus": 500_000_000,
        "mem_limit": 1024**3,
        "pids_limit": 16,
        "timeout_s": 20.0,
    }


def test_own_package_is_trusted_and_maps_to_its_entry_point() -> None:
    t = runtime_for(_entry(package="openenv-harness", env="echo"))
    assert (t.kind, t.env_id, t.package) == ("package", "echo", "openenv-harness")
    with pytest.raises(TasksetError, match="does not provide environment 'nope'.*entry points: .*echo"):
        runtime_for(_entry(package="openenv_harness", env="nope"))


@pytest.mark.parametrize(
    "openenv",
    [{"package": "evil-envs"}, {"package": "pyyaml"}, {"package": "requests>=2"}, {"image": "ghcr.io/x/y:1"}],
)
def test_third_party_code_refused_without_trust(
    openenv: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr("subprocess.run", lambda *a, **k: calls.append(a))
    with pytest.raises(TasksetError, match="Refusing because trust_remote_code is False") as info:
        runtime_for(_entry(**openenv))
    assert "taskset.trust_remote_code=true" in str(info.value)
    assert calls == []  # nothing was installed or run


def test_own_images_need_no_trust() -> None:
    assert runtime_for(_entry(image="openenv-harness/env-echo:latest")).kind == "docker"


def test_trusted_third_party_package_is_not_touched_in_this_interpreter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The orchestrator neither installs nor imports it: the runtime serves it from a venv of its own."""
    calls: list[Any] = []
    monkeypatch.setattr("subprocess.run", lambda *a, **k: calls.append(a))
    t = runtime_for(_entry(package="surely-not-a-real-dist-xyz==1.0", env="xyz"), trust_remote_code=True)
    assert (t.kind, t.env_id, t.third_party) == ("package", "xyz", True)
    assert t.provider_kwargs() == ("local", {"env": "xyz", "package": "surely-not-a-real-dist-xyz==1.0"})
    assert calls == []


def test_space_url_override_works_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t = runtime_for(_entry(space_id="Org/My_Env"), space_url_override="http://127.0.0.1:9/")
    assert (t.kind, t.url, t.space_id) == ("remote", "http://127.0.0.1:9", "Org/My_Env")


def test_space_offline_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(TasksetError, match="needs the network; HF_HUB_OFFLINE is set"):
        runtime_for(_entry(space_id="Org/My_Env"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    t = runtime_for(_entry(space_id="Org/My_Env"))  # only builds the URL; nothing connects
    assert (t.kind, t.url) == ("remote", "https://org-my-env.hf.space")
    assert space_url("a.b/c_d") == "https://a-b-c-d.hf.space"


def test_missing_secret_fails_before_anything_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOY_TOKEN", raising=False)
    monkeypatch.delenv("TOY_KEY", raising=False)
    calls: list[Any] = []
    monkeypatch.setattr("subprocess.run", lambda *a, **k: calls.append(a))
    with pytest.raises(TasksetError, match="missing secret\\(s\\) TOY_TOKEN, TOY_KEY"):
        runtime_for(
            _entry(package="third-party-env", secrets=["TOY_TOKEN", "TOY_KEY"]), trust_remote_code=True
        )
    assert calls == []


def test_secrets_never_logged_or_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TOY_TOKEN", SECRET)
    caplog.set_level(logging.DEBUG)
    entry = _entry(image="img:1", secrets=["TOY_TOKEN"])
    target = runtime_for(entry, trust_remote_code=True)
    assert target.secrets["TOY_TOKEN"] == SECRET  # the provider gets the value ...
    # ... but no log line, repr, record or report carries it.
    assert "TOY_TOKEN" in caplog.text and SECRET not in caplog.text
    assert SECRET not in repr(target) and SECRET not in str(target.secrets)
    root = write_taskset(
        tmp_path / "ts", manifest(frameworks={"openenv": {"image": "img:1", "secrets": ["TOY_TOKEN"]}})
    )
    resolved: ResolvedTaskset = resolve(str(root))
    out = tmp_path / "out"
    out.mkdir()
    (out / "runtime.json").write_text(json.dumps(target.record()))
    (out / "taskset.json").write_text(json.dumps(resolved.record()))
    (out / "report.txt").write_text(validate_taskset(str(root)).format())
    print(target, target.record())
    for f in out.iterdir():
        assert SECRET not in f.read_text(), f
    assert json.loads((out / "runtime.json").read_text())["secrets"] == ["TOY_TOKEN"]
    assert SECRET not in capsys.readouterr().out
    assert SECRET not in caplog.text


def test_read_secrets_from_a_given_environ() -> None:
    assert dict(read_secrets(["A"], {"A": "x"})) == {"A": "x"}
    with pytest.raises(TasksetError, match="missing secret\\(s\\) A"):
        read_secrets(["A"], {"A": ""})


def test_min_version_checked() -> None:
    with pytest.raises(TasksetError, match="needs openenv_harness >= 99.0"):
        runtime_for(_entry(image="img:1", min_version="99.0"))


@pytest.mark.parametrize(
    ("openenv", "kind"),
    [
        ({"image": "ghcr.io/org/env:1.2"}, "docker"),
        ({"package": "openenv-harness", "env": "echo"}, "local"),
        ({"space_id": "org/env"}, "remote"),
    ],
)
def test_provider_kwargs_build_real_providers(
    openenv: dict[str, Any], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kwargs are accepted by the runtime's own providers (built, not started: nothing runs)."""
    from openenv_harness.runtime import make_provider

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # the Space case only builds a URL
    got_kind, kwargs = runtime_for(_entry(**openenv), trust_remote_code=True).provider_kwargs()
    assert got_kind == kind
    provider = make_provider(got_kind, **kwargs)
    if kind == "docker":
        assert (provider.cpus, provider.mem_limit, provider.pids_limit) == (0.5, f"{1024**3}b", 16)
        assert provider.image == "ghcr.io/org/env:1.2"
        assert provider.own_command is True and provider.env_id is None  # foreign image: its CMD, untyped


def test_docker_own_command_takes_no_server_arguments() -> None:
    from openenv_harness.runtime import make_provider

    with pytest.raises(ValueError, match="env_kwargs/server_args cannot be passed"):
        make_provider("docker", env="toy", image="img:1", own_command=True, env_kwargs={"taskset": "x"})


def test_env_from_reads_secret_values_here_and_names_missing_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    from openenv_harness.runtime import make_provider

    monkeypatch.setenv("TOY_TOKEN", SECRET)
    monkeypatch.delenv("TOY_KEY", raising=False)
    provider = make_provider("local", env="echo", env_from=["TOY_TOKEN"])
    assert provider.env_var_names == ["TOY_TOKEN"]  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="TOY_KEY not set") as info:
        make_provider("local", env="echo", env_from=["TOY_TOKEN", "TOY_KEY"])
    assert SECRET not in str(info.value)

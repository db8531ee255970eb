"""Tokens come from an environment variable, a file or a plain value, and are written as ``***``."""

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from openenv_harness.config import (
    ConfigError,
    apply_secrets,
    compose_config,
    redact,
    redacted_yaml,
    resolve_token,
)
from openenv_harness.config._redact_hydra import override_values, redact_override, redact_text

SECRET = "tok-3f9a1c-distinctive"


def test_token_from_env_file_or_value(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HARNESS_TEST_TOKEN", SECRET)
    (tmp_path / "tok").write_text(SECRET + "\n")
    assert resolve_token({"token_env": "HARNESS_TEST_TOKEN"}, "runtime") == SECRET
    assert resolve_token({"token_file": str(tmp_path / "tok")}, "runtime") == SECRET
    assert resolve_token({"token": SECRET}, "runtime") == SECRET
    assert resolve_token({"token": SECRET, "token_env": "HARNESS_TEST_TOKEN"}, "runtime") == SECRET  # agree
    assert resolve_token({"token": None}, "runtime") is None


def test_token_mistakes_name_the_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HARNESS_TEST_UNSET", raising=False)
    with pytest.raises(ConfigError, match=r"^server\.token_env: environment variable HARNESS_TEST_UNSET"):
        resolve_token({"token_env": "HARNESS_TEST_UNSET"}, "server")
    with pytest.raises(ConfigError, match=r"^runtime\.token_file: cannot read"):
        resolve_token({"token_file": str(tmp_path / "missing")}, "runtime")
    monkeypatch.setenv("HARNESS_TEST_TOKEN", "other")
    with pytest.raises(ConfigError, match=r"^runtime\.token: .*different"):
        resolve_token({"token": SECRET, "token_env": "HARNESS_TEST_TOKEN"}, "runtime")


def test_redact_plain_and_interpolated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_TEST_TOKEN", SECRET)
    for spelling in (SECRET, "${oc.env:HARNESS_TEST_TOKEN}"):
        cfg = compose_config(["env=echo", f"runtime.token={spelling}", "+env.kwargs.note=x" + SECRET])
        apply_secrets(cfg)
        assert cfg.runtime.token == SECRET  # in memory, for the providers
        plain = redact(cfg)
        assert plain["runtime"]["token"] == "***"
        assert plain["env"]["kwargs"]["note"] == "x***"  # a copy of the value elsewhere is scrubbed too
        assert SECRET not in str(plain) and SECRET not in redacted_yaml(cfg)


def test_token_env_keeps_only_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_TEST_TOKEN", SECRET)
    cfg = compose_config(["env=echo", "server.token_env=HARNESS_TEST_TOKEN"])
    apply_secrets(cfg)
    assert cfg.server.token == SECRET
    assert redact(cfg)["server"] == {
        **redact(cfg)["server"],
        "token": "***",
        "token_env": "HARNESS_TEST_TOKEN",
    }
    apply_secrets(cfg)  # idempotent: the resolved value agrees with the variable


def test_hydra_files_are_rewritten() -> None:
    assert redact_override(f"runtime.token={SECRET}") == "runtime.token=***"
    assert redact_override(f"+server.token={SECRET}") == "+server.token=***"
    assert redact_override("runtime.token_env=NAME") == "runtime.token_env=NAME"
    assert override_values([f"runtime.token={SECRET}", "runtime.token=${oc.env:X}"]) == [SECRET]
    saved = OmegaConf.to_yaml(
        OmegaConf.create({"runtime": {"token": SECRET}, "server": {"token": "${oc.env:X}"}})
    )
    hydra = (
        f"overrides:\n  task:\n  - runtime.token={SECRET}\n  override_dirname: a=1,runtime.token={SECRET}\n"
    )
    for text in (saved, hydra):
        clean = redact_text(text, [SECRET])
        assert SECRET not in clean and "***" in clean
    assert "${oc.env:X}" in redact_text(saved, [SECRET])  # an interpolation names a variable, not a value

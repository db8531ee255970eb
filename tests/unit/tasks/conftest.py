"""Fixtures for taskset tests (nothing touches the network)."""

from __future__ import annotations

from pathlib import Path

import pytest
from taskset_helpers import HubCache


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubCache:
    """An offline hub cache in a tmp HF_HOME that snapshot_download reads."""
    import huggingface_hub.constants as constants

    home = tmp_path / "hf_home"
    cache = home / "hub"
    cache.mkdir(parents=True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    # huggingface_hub reads these at import time; snapshot_download looks at the module attribute per call.
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return HubCache(cache)


@pytest.fixture(autouse=True)
def _datasets_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep ``datasets``' arrow cache out of the user's home."""
    import datasets.config

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "ds_cache")


@pytest.fixture(autouse=True)
def _fresh_shared_tasksets() -> None:
    """Tests build different tasksets under the same reference strings (e.g. hf:// in tmp caches)."""
    from openenv_harness.tasks import _resolve

    _resolve._shared.clear()

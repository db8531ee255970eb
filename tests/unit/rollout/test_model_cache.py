import json

import pytest

from openenv_harness.rollout import _model_cache as mc


def test_resolve_explicit_path_must_exist(tmp_path):
    assert mc.resolve_model_path("anything", str(tmp_path)) == str(tmp_path)
    with pytest.raises(FileNotFoundError, match="policy.path"):
        mc.resolve_model_path("anything", str(tmp_path / "missing"))


@pytest.mark.model
@pytest.mark.slow
def test_gguf_converts_once_into_a_trainable_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENENV_HARNESS_CACHE", str(tmp_path))
    folder = mc.embedded_model_path()
    assert folder == tmp_path / "models" / mc.EMBEDDED_MODEL
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["architectures"] == ["LlamaForCausalLM"] and "quantization_config" not in cfg
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert mc.embedded_model_path() == folder  # cached: not converted again
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(folder))
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()  # re-tied

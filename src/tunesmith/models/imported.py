"""Models imported into the cache, one folder per name under `<cache>/models/`: a GGUF converted
to safetensors (`models/gguf.py`), or a Hugging Face folder copied in (a Marian opus-mt, NLLB or
mT5 checkpoint brought from a connected machine). `source.json` records where each came from and
the SHA-256 of every file; `verify` recomputes them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tunesmith import atomic
from tunesmith.console import console
from tunesmith.errors import ModelNotFoundError
from tunesmith.hashing import checksum_problems, sha256_of
from tunesmith.models.cache import cache_dir

SOURCE_FILE = "source.json"
# What a model folder may hold; pickled weights (pytorch_model.bin) are never loaded.
_WEIGHTS = ("*.safetensors",)


def imported_root() -> Path:
    """Where imported models live: one folder per name."""
    return cache_dir() / "models"


def imported_dir(name: str) -> Path:
    return imported_root() / name


def record_source(folder: Path, source: dict[str, Any]) -> None:
    """Write `source.json` into `folder`: `source` plus the SHA-256 of every file beside it."""
    files = {p.name: sha256_of(p) for p in sorted(folder.iterdir()) if p.is_file() and p.name != SOURCE_FILE}
    atomic.write_json(folder / SOURCE_FILE, {**source, "files": files})


def import_folder(folder: Path, name: str | None = None) -> Path:
    """Copy a model folder written by `save_pretrained` (config.json, *.safetensors, tokenizer
    files) into the cache as `name` (default: the folder's name, lower case)."""
    if not (folder / "config.json").is_file():
        raise ModelNotFoundError(f"{folder}: no config.json; point at a folder written by save_pretrained")
    if not any(folder.glob(pattern) for pattern in _WEIGHTS):
        pickled = [p.name for p in folder.glob("*.bin")]
        hint = (
            f" It holds {', '.join(pickled)}: pickled weights are never loaded here. On the machine "
            "that has it, save it again with save_pretrained(..., safe_serialization=True)."
            if pickled
            else ""
        )
        raise ModelNotFoundError(f"{folder}: no *.safetensors weights.{hint}")
    out = imported_dir(name or folder.name.lower())
    with console.status(f"copying {folder} into the model cache..."), atomic.staged_dir(out) as stage:
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix != ".bin" and not path.name.startswith("."):
                shutil.copy2(path, stage / path.name)
        record_source(stage, {"folder": str(folder.resolve())})
    console.print(f"imported {folder} -> {out}")
    return out


def verify(folder: Path) -> list[str]:
    """Problems with an imported folder: files changed, missing, or the GGUF it came from changed."""
    source_file = folder / SOURCE_FILE
    if not source_file.is_file():
        return [f"{folder}: no {SOURCE_FILE}; not a folder written by `tunesmith models import`"]
    source: dict[str, Any] = json.loads(source_file.read_text(encoding="utf-8"))
    problems = checksum_problems(folder, source["files"], "the conversion's")
    gguf = Path(source["gguf"]) if "gguf" in source else None
    if gguf is not None and gguf.is_file() and sha256_of(gguf) != source["gguf_sha256"]:
        problems.append(f"{gguf}: the GGUF changed since it was converted; import it again")
    return problems

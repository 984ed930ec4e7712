"""Text lengths in the model's tokens, on a sample: what the character counts do not tell (how
much `model.max_length` will cut)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.errors import TunesmithError
from tunesmith.recipe import Recipe

SAMPLE = 5000  # texts measured for token lengths and language mix


def load_tokenizer(recipe: Recipe) -> Any:
    """The model's tokenizer: its tokenizer.json read by the `tokenizers` library when there is one
    (transformers' fast tokenizers run the same library; importing transformers, with PyTorch
    behind it, added ~320 MB to prepare's memory), else transformers."""
    from tunesmith.models.resolve import resolve_model
    from tunesmith.runtime.tokenizer import plain_tokenizer

    folder = Path(resolve_model(recipe.model.name))
    plain = plain_tokenizer(folder) if not recipe.model.trust_remote_code else None
    if plain is not None:
        return plain
    from transformers import AutoTokenizer

    from tunesmith.console import quiet_transformers

    quiet_transformers()
    return AutoTokenizer.from_pretrained(folder, trust_remote_code=recipe.model.trust_remote_code)


def count_tokens(tokenizer: Any, texts: list[str]) -> np.ndarray:
    encoded = tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
    return np.fromiter((len(ids) for ids in encoded), dtype=np.int64, count=len(texts))


def sample_token_lengths(
    recipe: Recipe, sample: list[str], tokenizer: Any | None = None
) -> tuple[np.ndarray | None, dict[str, Any]]:
    """(token lengths of the sample, summary for the report); (None, a note) without a tokenizer."""
    try:
        tokenizer = tokenizer or load_tokenizer(recipe)
    except (TunesmithError, OSError, ValueError) as error:
        return None, {"note": f"token lengths not measured: the tokenizer could not be loaded ({error})"}
    if not sample:
        return None, {"note": "no texts"}
    lengths = count_tokens(tokenizer, sample)
    limit = recipe.model.max_length
    summary = {
        "sample": len(lengths),
        "min": int(lengths.min()),
        "median": float(np.median(lengths)),
        "p95": int(np.percentile(lengths, 95, method="lower")),
        "max": int(lengths.max()),
        "max_length": limit,
        "truncated_share": round(float((lengths > limit).mean()), 4),
    }
    return lengths, summary

"""onnxruntime's transformer graph fusions (attention, LayerNorm, GELU, embeddings) on an fp32
ONNX file; the caller keeps the fused file only where parity still holds."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

# onnxruntime's optimizer names BERT-like encoders "bert"; it fuses XLM-R, MiniLM and E5 alike.
_MODEL_TYPES = {"bert": "bert", "xlm-roberta": "bert", "roberta": "bert", "distilbert": "bert"}


def fuse(source: Path, target: Path, config: Any) -> dict[str, int] | str:
    """Write the fused graph of `source` to `target`: the count of each fused operator, or the
    reason nothing was fused (an architecture the optimizer does not know, or its error)."""
    from onnxruntime.transformers.optimizer import optimize_model

    model_type = _MODEL_TYPES.get(getattr(config, "model_type", ""))
    if model_type is None:
        return f"no fusions for model type {getattr(config, 'model_type', '?')!r}"
    logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)
    try:
        optimized = optimize_model(
            str(source),
            model_type=model_type,
            num_heads=int(getattr(config, "num_attention_heads", 0) or 0),
            hidden_size=int(getattr(config, "hidden_size", 0) or 0),
        )
    except Exception as error:  # the optimizer is best effort: any failure leaves the plain graph
        return f"onnxruntime's optimizer failed: {type(error).__name__}: {error}"
    fused = {name: count for name, count in optimized.get_fused_operator_statistics().items() if count}
    if not fused:
        return "the optimizer found nothing to fuse"
    optimized.save_model_to_file(str(target))
    return fused

"""The int8 search on a real ONNX graph: when quantizing everything misses the agreement target,
the most sensitive nodes stay in fp32 - the fewest that reach it - and the file written is the
one that reached it. The agreement here is strict on purpose (logits within a tolerance that
full int8 misses for most texts), so the search must run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from helpers import INTENTS, build_tiny_model, faq_records
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from tunesmith.export.engines import OnnxEngine
from tunesmith.export.int8 import quantize, quantize_to_agreement
from tunesmith.export.parity import token_batches
from tunesmith.export.trace import sample_inputs, write_onnx
from tunesmith.tasks.graph import OutputsGraph


def test_search_keeps_the_fewest_sensitive_nodes_in_fp32_that_reach_the_target(tmp_path: Path) -> None:
    texts = [r["question"] for r in faq_records(200)] + [p for v in INTENTS.values() for p in v]
    folder = build_tiny_model(tmp_path / "tiny", texts)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=4).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    fp32 = tmp_path / "model.onnx"
    write_onnx(
        OutputsGraph(model, ("logits",)), sample_inputs(tokenizer, texts[:2], None, 64), ("logits",), fp32
    )
    batches = token_batches(tokenizer, [{"text": t} for t in texts[:96]], 64, 32)

    def logits(path: Path) -> np.ndarray:
        engine = OnnxEngine(path, ("logits",))
        return np.concatenate([engine(batch)["logits"] for batch in batches])

    expected = logits(fp32)
    full_error = None

    def agreement_of(path: Path) -> float:
        nonlocal full_error
        error = np.abs(logits(path) - expected).max(axis=1)
        if full_error is None:  # the first attempt quantizes everything: demand better than its median
            full_error = float(np.median(error))
        return float(np.mean(error < full_error))

    def outputs_of(path: Path) -> dict[str, np.ndarray]:
        return {"logits": logits(path)}

    work = tmp_path / "work"
    work.mkdir()
    target = tmp_path / "int8.onnx"
    result = quantize_to_agreement({"plain": fp32}, target, work, True, 0.9, agreement_of, outputs_of)
    trials = result.trials
    assert trials[0]["kept_fp32"] == 0 and trials[0]["validation_agreement"] < 0.9  # the search ran
    assert result.agreement >= 0.9 and result.kept_fp32 and result.quantized
    assert set(result.sensitivity) == set(result.kept_fp32) | set(result.quantized)
    ranked = sorted(result.sensitivity, key=lambda n: -result.sensitivity[n])
    assert result.kept_fp32 == ranked[: len(result.kept_fp32)]  # the most sensitive first
    fewer = [t for t in trials[1:] if t["kept_fp32"] < len(result.kept_fp32)]
    assert all(t["validation_agreement"] < 0.9 for t in fewer)  # no smaller count reached it
    assert agreement_of(target) == result.agreement  # the file written is the one that passed


def test_no_node_in_int8_is_the_fp32_graph_and_the_search_never_counts_it_as_int8(tmp_path: Path) -> None:
    """onnxruntime reads an empty node list as "quantize every node": keeping every node in fp32
    must give the fp32 graph itself, and a target that only fp32 reaches is a miss (the caller
    keeps fp32 ONNX), not an "int8" export that quantizes nothing."""
    texts = [r["question"] for r in faq_records(60)]
    folder = build_tiny_model(tmp_path / "tiny", texts)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=4).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    fp32 = tmp_path / "model.onnx"
    write_onnx(
        OutputsGraph(model, ("logits",)), sample_inputs(tokenizer, texts[:2], None, 64), ("logits",), fp32
    )
    copy = tmp_path / "none.onnx"
    quantize(fp32, copy, [], per_channel=True)
    assert copy.read_bytes() == fp32.read_bytes()
    reference = fp32.read_bytes()

    def agreement_of(path: Path) -> float:  # only the fp32 graph itself agrees
        return 1.0 if path.read_bytes() == reference else 0.5

    work = tmp_path / "work"
    work.mkdir()
    target = tmp_path / "int8.onnx"
    batches = token_batches(tokenizer, [{"text": t} for t in texts[:32]], 64, 32)

    def outputs_of(path: Path) -> dict[str, np.ndarray]:
        engine = OnnxEngine(path, ("logits",))
        return {"logits": np.concatenate([engine(b)["logits"] for b in batches])}

    result = quantize_to_agreement({"plain": fp32}, target, work, True, 0.995, agreement_of, outputs_of)
    assert result.agreement == 0.5 and not target.exists()
    nodes = len(result.sensitivity)
    assert nodes > 1 and max(t["kept_fp32"] for t in result.trials) == nodes - 1

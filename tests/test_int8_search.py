"""The int8 search on a real ONNX graph: when quantizing everything misses the agreement target,
groups of nodes (one operator and weight shape) are measured alone and protected, the most
harmful first - MatMul groups block-wise (MatMulNBits), the others fp32 - until the target is met;
the file written is the one that met it, and a target only fp32 meets is a miss."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from helpers import INTENTS, build_tiny_model, faq_records
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from tunesmith.export.int8 import name_nodes, op_types, quantize, quantize_to_agreement, weight_groups
from tunesmith.export.quality import Verdict
from tunesmith.export.trace import sample_inputs, write_onnx
from tunesmith.runtime.engines import OnnxEngine
from tunesmith.runtime.parity import token_batches
from tunesmith.tasks.graph import OutputsGraph


@pytest.fixture(scope="module")
def tiny_graph(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, np.ndarray]]]:
    """A 2-layer BERT classifier as an fp32 ONNX file, and token batches of 96 texts."""
    folder = tmp_path_factory.mktemp("int8")
    texts = [r["question"] for r in faq_records(200)] + [p for v in INTENTS.values() for p in v]
    model_dir = build_tiny_model(folder / "tiny", texts)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=4).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    fp32 = folder / "model.onnx"
    write_onnx(
        OutputsGraph(model, ("logits",)), sample_inputs(tokenizer, texts[:2], None, 64), ("logits",), fp32
    )
    return fp32, token_batches(tokenizer, [{"text": t} for t in texts[:96]], 64, 32)


def _by_agreement(agreement_of: Callable[[Path], float], target: float) -> Callable[[Path], Verdict]:
    """The search's judge when only agreement counts (no metric: these graphs have no labels)."""

    def judge_of(path: Path) -> Verdict:
        found = agreement_of(path)
        return Verdict(0, found, None, None, None, None, found >= target, f"agreement {found:.4f}")

    return judge_of


def _logits(path: Path, batches: list[dict[str, np.ndarray]]) -> np.ndarray:
    engine = OnnxEngine(path, ("logits",))
    return np.concatenate([engine(batch)["logits"] for batch in batches])


def test_the_most_harmful_groups_are_protected_until_the_target_is_met(
    tiny_graph: tuple[Path, list[dict[str, np.ndarray]]], tmp_path: Path
) -> None:
    """The agreement is strict on purpose (logits within a tolerance that full dynamic int8 misses
    for most texts), so the search must run."""
    fp32, batches = tiny_graph
    expected = _logits(fp32, batches)
    full_error = None

    def agreement_of(path: Path) -> float:
        nonlocal full_error
        error = np.abs(_logits(path, batches) - expected).max(axis=1)
        if full_error is None:  # the first attempt quantizes everything: demand better than its median
            full_error = float(np.median(error))
        return float(np.mean(error < full_error))

    work = tmp_path / "work"
    work.mkdir()
    target = tmp_path / "int8.onnx"
    result = quantize_to_agreement({"plain": fp32}, target, work, True, _by_agreement(agreement_of, 0.9))
    trials = result.trials
    assert trials[0]["validation_agreement"] < 0.9  # every node dynamic missed: the search ran
    assert result.agreement >= 0.9 and (result.blockwise or result.kept_fp32)
    harms = [g["answers_changed_alone"] for g in result.groups.values()]
    assert len(harms) > 1 and harms == sorted(harms, reverse=True)  # the most harmful first
    named = work / "named-plain.onnx"
    groups = weight_groups(named, name_nodes(fp32, tmp_path / "again.onnx"))
    assert set(result.groups) == set(groups) and "Gather" not in groups  # no shape gathers: weights only
    protected = set(result.blockwise) | set(result.kept_fp32)
    prefixes = [set().union(*(groups[g] for g in list(result.groups)[:k])) for k in range(1, len(groups) + 1)]
    assert protected in prefixes  # the most harmful groups, in their order
    kinds = op_types(named)
    assert all(kinds[n] == "MatMul" for n in result.blockwise)
    assert ("MatMulNBits" in op_types(target).values()) == bool(result.blockwise)
    assert agreement_of(target) == result.agreement  # the file written is the one that passed


def test_no_node_in_int8_is_the_fp32_graph_and_a_target_only_fp32_meets_is_a_miss(
    tiny_graph: tuple[Path, list[dict[str, np.ndarray]]], tmp_path: Path
) -> None:
    """onnxruntime reads an empty node list as "quantize every node": keeping every node in fp32
    must give the fp32 graph itself, and a target that only fp32 reaches is a miss (the caller
    keeps fp32 ONNX), not an "int8" export that quantizes nothing."""
    fp32, _ = tiny_graph
    copy = tmp_path / "none.onnx"
    quantize(fp32, copy, [], per_channel=True)
    assert copy.read_bytes() == fp32.read_bytes()
    reference = fp32.read_bytes()
    tried: list[bytes] = []

    def agreement_of(path: Path) -> float:  # only the fp32 graph itself agrees
        tried.append(path.read_bytes())
        return 1.0 if tried[-1] == reference else 0.5

    work = tmp_path / "work"
    work.mkdir()
    target = tmp_path / "int8.onnx"
    result = quantize_to_agreement({"plain": fp32}, target, work, True, _by_agreement(agreement_of, 0.995))
    assert result.agreement == 0.5 and not target.exists()
    assert reference not in tried and len(result.trials) > len(result.groups) > 1


def test_block_wise_matmul_keeps_the_logits_closer_than_dynamic_int8(
    tiny_graph: tuple[Path, list[dict[str, np.ndarray]]], tmp_path: Path
) -> None:
    """The same MatMul nodes, block-wise (an activation scale per block of 32) against dynamic
    (one scale per activation tensor): the block-wise logits are nearer fp32's."""
    fp32, batches = tiny_graph
    named = tmp_path / "named.onnx"
    matmuls = [n for n in name_nodes(fp32, named) if op_types(named)[n] == "MatMul"]
    blocks, dynamic = tmp_path / "blocks.onnx", tmp_path / "dynamic.onnx"
    quantize(named, blocks, [], True, blockwise=matmuls)
    quantize(named, dynamic, matmuls, True)
    graph = onnx.load(str(blocks)).graph
    assert sum(n.op_type == "MatMulNBits" for n in graph.node) == len(matmuls)
    expected = _logits(fp32, batches)
    block_error = np.abs(_logits(blocks, batches) - expected).mean()
    dynamic_error = np.abs(_logits(dynamic, batches) - expected).mean()
    assert 0 < block_error < dynamic_error

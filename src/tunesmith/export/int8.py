"""int8 that keeps the answers: dynamic quantization with per-channel weights, and the layers whose
quantization moves the outputs most kept in fp32 until the int8 model gives the fp32 model's answers
on the validation split at least `min_agreement` of the time.

One blind `quantize_dynamic` call changed 2% of banking77's answers. Here the fp32 graph is first
smoothed (smooth.py) where that agrees better; then, if the target is still missed, each
quantizable node's sensitivity is measured (that node alone in int8, the output change on a
calibration batch), and the search keeps the k most sensitive in fp32 for the smallest k that
reaches the target."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.console import console, progress

# Weight-bearing operators the dynamic quantizer rewrites: matrix products (also inside fused
# attention) and embedding lookups (most of a multilingual model's size).
QUANTIZABLE = ("MatMul", "Gemm", "Attention", "Gather", "EmbedLayerNormalization")

Outputs = dict[str, np.ndarray]


@dataclass
class Int8Result:
    agreement: float  # validation answers identical to the fp32 export's
    quantized: list[str]
    kept_fp32: list[str]
    trials: list[dict[str, Any]] = field(default_factory=list)
    sensitivity: dict[str, float] = field(default_factory=dict)
    graph: str = "plain"  # which fp32 graph was quantized (plain, smoothed)
    fully_quantized: dict[str, float] = field(default_factory=dict)  # graph -> agreement, all in int8

    def summary(self) -> dict[str, Any]:
        ranked = sorted(self.sensitivity.items(), key=lambda kv: -kv[1])
        return {
            "validation_agreement": self.agreement,
            "graph": self.graph,
            "fully_quantized_agreement": self.fully_quantized,
            "nodes_quantized": len(self.quantized),
            "nodes_kept_fp32": self.kept_fp32,
            "search": self.trials,
            "most_sensitive": [{"node": n, "output_change": round(s, 6)} for n, s in ranked[:10]],
        }


def name_nodes(source: Path, target: Path) -> list[str]:
    """Copy `source` to `target` with every node named (the quantizer selects nodes by name); the
    names of the quantizable nodes with a constant weight, in graph order."""
    import onnx

    model = onnx.load(str(source))
    constants = {init.name for init in model.graph.initializer}
    constants |= {n.output[0] for n in model.graph.node if n.op_type == "Constant"}
    seen: set[str] = set()
    candidates = []
    for position, node in enumerate(model.graph.node):
        if not node.name or node.name in seen:
            node.name = f"{node.op_type}_{position}"
        seen.add(node.name)
        if node.op_type in QUANTIZABLE and any(i in constants for i in node.input):
            candidates.append(node.name)
    onnx.save(model, str(target))
    return candidates


def quantize(source: Path, target: Path, nodes: list[str], per_channel: bool) -> None:
    """`source` with exactly `nodes` in int8 written to `target`. No nodes: a copy, since
    onnxruntime reads an empty `nodes_to_quantize` as "every node" (the cause of "28 of 28 nodes
    kept in fp32: agreement 0.9522": that trial was the fully quantized graph again)."""
    if not nodes:
        shutil.copyfile(source, target)
        return
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # the quantizer logs every node it skips
    quantize_dynamic(
        str(source),
        str(target),
        per_channel=per_channel,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=list(QUANTIZABLE),
        nodes_to_quantize=nodes,
        # fused contrib operators (Attention, SkipLayerNormalization) defeat ONNX shape inference
        extra_options={"DefaultTensorType": TensorProto.FLOAT},
    )


def output_change(reference: Outputs, found: Outputs) -> float:
    """Mean absolute change of every output, in units of that output's spread in fp32."""
    changes = []
    for name, ref in reference.items():
        spread = float(np.std(ref)) or 1.0
        changes.append(float(np.mean(np.abs(found[name] - ref))) / spread)
    return float(np.mean(changes))


def quantize_to_agreement(
    sources: dict[str, Path],
    target: Path,
    work: Path,
    per_channel: bool,
    min_agreement: float,
    agreement_of: Callable[[Path], float],
    outputs_of: Callable[[Path], Outputs],
) -> Int8Result:
    """Write to `target` the int8 model with the most nodes quantized (sensitivity order) whose
    validation agreement (`agreement_of`) reaches `min_agreement`. `sources`: fp32 graphs that
    compute the same thing (plain, smoothed); the one whose full quantization agrees best is
    searched. `outputs_of` gives a model file's outputs on the calibration batch."""
    trial_file = work / "trial.onnx"
    result = Int8Result(0.0, [], [])

    def attempt(named: Path, candidates: list[str], kept: list[str]) -> float:
        quantize(named, trial_file, [n for n in candidates if n not in kept], per_channel)
        found = agreement_of(trial_file)
        result.trials.append({"kept_fp32": len(kept), "validation_agreement": round(found, 6)})
        console.print(f"int8 with {len(kept)} of {len(candidates)} nodes kept in fp32: agreement {found:.4f}")
        if found >= min_agreement:  # each passing attempt keeps fewer nodes than the one before
            trial_file.replace(target)
        return found

    base: tuple[float, str, Path, list[str]] | None = None
    for label, source in sources.items():
        named = work / f"named-{label}.onnx"
        candidates = name_nodes(source, named)
        console.print(f"{label} graph:", end=" ")
        found = attempt(named, candidates, [])
        result.fully_quantized[label] = found
        if base is None or found > base[0]:
            base = (found, label, named, candidates)
        if found >= min_agreement:
            break
    assert base is not None
    agreement, result.graph, named, candidates = base
    result.agreement, result.quantized = agreement, list(candidates)
    if agreement >= min_agreement or not candidates:  # a passing graph was the last tried: in `target`
        return result
    result.sensitivity = _sensitivity(named, candidates, work, per_channel, outputs_of)
    ranked = sorted(candidates, key=lambda n: -result.sensitivity[n])
    # keeping `low` fails; find the smallest passing `high` by doubling, then halving. Keeping every
    # node is the fp32 graph itself, so at least one node must be in int8 for the export to count.
    most = len(ranked) - 1
    low, high = 0, 1
    passing: tuple[int, float] | None = None
    while passing is None:
        high = min(high, most)
        found = attempt(named, candidates, ranked[:high])
        if found >= min_agreement:
            passing = (high, found)
        elif high >= most:  # missed: the caller reports the best agreement reached
            result.agreement = max(result.agreement, found)
            return result
        else:
            low, high = high, high * 2
    while passing[0] - low > 1:
        middle = (low + passing[0]) // 2
        found = attempt(named, candidates, ranked[:middle])
        if found >= min_agreement:
            passing = (middle, found)
        else:
            low = middle
    kept = ranked[: passing[0]]
    result.agreement = passing[1]
    result.kept_fp32 = kept
    result.quantized = [n for n in candidates if n not in kept]
    return result


def _sensitivity(
    named: Path, candidates: list[str], work: Path, per_channel: bool, outputs_of: Callable[[Path], Outputs]
) -> dict[str, float]:
    """Each node alone in int8: how far the calibration outputs move from fp32."""
    reference = outputs_of(named)
    single = work / "single.onnx"
    found = {}
    with progress() as bar:
        job = bar.add_task("measuring each layer's int8 sensitivity", total=len(candidates))
        for node in candidates:
            quantize(named, single, [node], per_channel)
            found[node] = output_change(reference, outputs_of(single))
            bar.advance(job)
    return found

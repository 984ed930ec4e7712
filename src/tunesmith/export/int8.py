"""int8 that keeps the answers. First every weight-bearing node is quantized dynamically
(onnxruntime: per-channel int8 weights, one scale per activation tensor), the fastest form. When
that misses the quality rule (export/quality.py: the share of validation answers the fp32 model
gives, and the headline metric not worse beyond noise), nodes are
taken by *group* - the nodes of one operator and weight shape, one role repeated in every layer
(the FFN output projections, fused attention, the embeddings) - and each group alone in int8 says
how many answers it changes. The groups are then protected, the most harmful first, until the
target is met: a MatMul group becomes MatMulNBits at 8 bits (weights in blocks of 32 along the
input, each with its own scale, and the activations quantized per block of 32 as the kernel runs),
any other group stays fp32; if every group is protected and the target is still missed, the
block-wise groups go to fp32 in the same order.

Why groups and blocks: on multilingual-E5 (ATEC pairs, 2,000 texts; benchmarks/int8_study.py) the
12 FFN output projections alone changed 9.2% of the answers - GELU's long tail sets the single
activation scale of their input - and every other group 0.5-1.6%; block-wise, all of them
together changed 0.85%. A group's trial costs one quantization of the graph: about ten for a
12-layer encoder, where measuring every node alone took 50 (43 minutes on E5)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.console import console, progress
from tunesmith.export.quality import Verdict

# Weight-bearing operators: matrix products, fused attention, dense layers, embedding lookups
# (most of a multilingual model's size).
QUANTIZABLE = ("MatMul", "Gemm", "Attention", "Gather", "EmbedLayerNormalization")
BLOCKWISE = "MatMul"  # the operator MatMulNBits replaces
BLOCK = 32

Outputs = dict[str, np.ndarray]


@dataclass
class Int8Result:
    agreement: float  # validation answers identical to the fp32 export's
    quality: dict[str, Any] | None  # the verdict of the graph kept (None: none held)
    quantized: list[str]  # dynamically
    kept_fp32: list[str]
    blockwise: list[str] = field(default_factory=list)
    trials: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # group -> its nodes' count, harm
    graph: str = "plain"  # which fp32 graph was quantized (plain, smoothed)
    fully_quantized: dict[str, float] = field(default_factory=dict)  # graph -> agreement, all in int8

    def summary(self) -> dict[str, Any]:
        return {
            "validation_agreement": self.agreement,
            "quality": self.quality,
            "graph": self.graph,
            "fully_quantized_agreement": self.fully_quantized,
            "nodes_quantized": len(self.quantized),
            "nodes_blockwise": len(self.blockwise),
            "nodes_kept_fp32": self.kept_fp32,
            "groups": self.groups,
            "search": self.trials,
        }


def name_nodes(source: Path, target: Path) -> list[str]:
    """Copy `source` to `target` with every node named (the quantizer selects nodes by name); the
    names of the quantizable nodes with a constant weight, in graph order."""
    import onnx

    model = onnx.load(str(source))
    weights = {i.name for i in model.graph.initializer if len(i.dims) >= 2}  # not indices or shapes
    seen: set[str] = set()
    candidates = []
    for position, node in enumerate(model.graph.node):
        if not node.name or node.name in seen:
            node.name = f"{node.op_type}_{position}"
        seen.add(node.name)
        if node.op_type in QUANTIZABLE and any(i in weights for i in node.input):
            candidates.append(node.name)
    onnx.save(model, str(target))
    return candidates


def op_types(path: Path) -> dict[str, str]:
    """Node name -> operator type."""
    import onnx

    return {node.name: node.op_type for node in onnx.load(str(path), load_external_data=False).graph.node}


def quantize(
    source: Path, target: Path, nodes: list[str], per_channel: bool, blockwise: Sequence[str] = ()
) -> None:
    """`source` written to `target` with `nodes` in dynamic int8 and the MatMul nodes `blockwise`
    as MatMulNBits; every other node stays fp32. Nothing to quantize: a copy, since onnxruntime
    reads an empty `nodes_to_quantize` as "every node" (the cause of "28 of 28 nodes kept in fp32:
    agreement 0.9522": that trial was the fully quantized graph again)."""
    if not nodes and not blockwise:
        shutil.copyfile(source, target)
        return
    for logger in ("", "onnxruntime.quantization.matmul_nbits_quantizer"):  # they log every node
        logging.getLogger(logger).setLevel(logging.ERROR)
    step = source
    if blockwise:
        step = target.with_name(f"{target.stem}-blocks.onnx") if nodes else target
        quantize_blocks(source, step, list(blockwise))
    if nodes:
        quantize_dynamic_nodes(step, target, nodes, per_channel)
        if step != source:
            step.unlink()


def quantize_blocks(source: Path, target: Path, nodes: list[str]) -> None:
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig,
        MatMulNBitsQuantizer,
    )

    options = {"block_size": BLOCK, "is_symmetric": True, "accuracy_level": 4, "bits": 8}
    quantizer = MatMulNBitsQuantizer(
        onnx.load(str(source)),
        nodes_to_include=nodes,
        op_types_to_quantize=(BLOCKWISE,),
        algo_config=DefaultWeightOnlyQuantConfig(op_types_to_quantize=(BLOCKWISE,), **options),  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )
    quantizer.process()
    quantizer.model.save_model_to_file(str(target), use_external_data_format=False)


def quantize_dynamic_nodes(source: Path, target: Path, nodes: list[str], per_channel: bool) -> None:
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

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


def weight_groups(path: Path, nodes: Sequence[str]) -> dict[str, list[str]]:
    """`nodes` by operator and the shape of their constant weight: one role across the layers."""
    import onnx

    graph = onnx.load(str(path)).graph
    shapes = {i.name: "x".join(map(str, i.dims)) for i in graph.initializer if len(i.dims) >= 2}
    wanted = set(nodes)
    groups: dict[str, list[str]] = {}
    for node in graph.node:
        if node.name in wanted:
            shape = next((shapes[i] for i in node.input if i in shapes), "")
            groups.setdefault(f"{node.op_type} {shape}".strip(), []).append(node.name)
    return groups


def quantize_to_agreement(
    sources: dict[str, Path],
    target: Path,
    work: Path,
    per_channel: bool,
    judge_of: Callable[[Path], Verdict],
) -> Int8Result:
    """Write to `target` the fastest int8 model found whose validation answers hold by the quality
    rule (`judge_of`); a miss writes nothing and reports the best agreement reached.
    `sources`: fp32 graphs that compute the same thing (plain, smoothed); the one whose full
    quantization agrees best is searched."""
    trial_file = work / "trial.onnx"
    result = Int8Result(0.0, None, [], [])

    def attempt(named: Path, dynamic: list[str], blockwise: list[str], what: str) -> Verdict:
        quantize(named, trial_file, dynamic, per_channel, blockwise)
        found = judge_of(trial_file)
        result.trials.append(
            {"int8": what, "validation_agreement": round(found.agreement, 6), "holds": found.holds}
        )
        console.print(f"int8, {what}: {found.reason}")
        return found

    def passed(found: Verdict, dynamic: list[str], blockwise: list[str], candidates: list[str]) -> bool:
        if not found.holds:
            result.agreement = max(result.agreement, found.agreement)
            return False
        trial_file.replace(target)
        result.agreement, result.quality = found.agreement, found.summary()
        result.quantized, result.blockwise = dynamic, blockwise
        result.kept_fp32 = [n for n in candidates if n not in dynamic and n not in blockwise]
        return True

    best: tuple[float, Path, list[str]] | None = None
    for label, source in sources.items():
        named = work / f"named-{label}.onnx"
        candidates = name_nodes(source, named)
        found = attempt(named, candidates, [], f"every node dynamic ({label} graph)")
        result.fully_quantized[label] = found.agreement
        if passed(found, candidates, [], candidates):
            result.graph = label
            return result
        if best is None or found.agreement > best[0]:
            best, result.graph = (found.agreement, named, candidates), label
    if best is None or not best[2]:
        return result
    _, named, candidates = best
    groups = weight_groups(named, candidates)
    harm = {}
    with progress() as bar:
        job = bar.add_task("measuring what each group of layers changes in int8", total=len(groups))
        for name, members in groups.items():
            harm[name] = 1.0 - attempt(named, members, [], f"{name} alone ({len(members)} nodes)").agreement
            bar.advance(job)
    order = sorted(groups, key=lambda g: -harm[g])
    result.groups = {g: {"nodes": len(groups[g]), "answers_changed_alone": round(harm[g], 6)} for g in order}
    kinds = op_types(named)
    protected: list[str] = []
    for name in order:  # protect the most harmful groups first: block-wise where possible, else fp32
        protected.append(name)
        if len(protected) == len(order) and not any(kinds[n] == BLOCKWISE for g in order for n in groups[g]):
            break  # everything in fp32 is not int8
        blockwise = [n for g in protected for n in groups[g] if kinds[n] == BLOCKWISE]
        dynamic = [n for g in order if g not in protected for n in groups[g]]
        found = attempt(named, dynamic, blockwise, f"{', '.join(protected)} protected")
        if passed(found, dynamic, blockwise, candidates):
            return result
    blockwise = [n for g in order for n in groups[g] if kinds[n] == BLOCKWISE]
    for name in order:  # then the block-wise groups to fp32, in the same order
        moved = [n for n in groups[name] if n in blockwise]
        if not moved:
            continue
        blockwise = [n for n in blockwise if n not in moved]
        if not blockwise:
            break
        found = attempt(named, [], blockwise, f"{name} also fp32")
        if passed(found, [], blockwise, candidates):
            return result
    return result

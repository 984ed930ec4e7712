"""SmoothQuant (Xiao et al., 2023) on an ONNX graph: activation outliers moved into the weights
before int8, so dynamic per-tensor activation scales lose less.

For each MatMul with a constant weight W ([in, out]) and an activation X: s_j = max|X_j|^a /
max|W_j|^(1-a) per input channel j (a = 0.5, max|X_j| from a calibration batch); X is divided by
s (one inserted Mul) and W's rows are multiplied by s. In fp32 the product is the same; in int8
the activation's range is flatter, and per-channel weight scales absorb the rest. onnxruntime's
quantizer has no such pass for dynamic quantization, hence this one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ALPHA = 0.5


def _weight_matmuls(model: Any) -> list[Any]:
    """MatMul nodes whose second input is an fp32 initializer used by that node alone."""
    from onnx import TensorProto

    initializers = {i.name: i for i in model.graph.initializer}
    uses = Counter(name for node in model.graph.node for name in node.input)
    return [
        node
        for node in model.graph.node
        if node.op_type == "MatMul"
        and node.input[1] in initializers
        and initializers[node.input[1]].data_type == TensorProto.FLOAT
        and len(initializers[node.input[1]].dims) == 2
        and uses[node.input[1]] == 1
        and node.input[0] not in initializers
    ]


def _activation_ranges(
    model: Any, tensors: Sequence[str], feeds: Sequence[Mapping[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """The largest |value| of each input channel (last axis) of `tensors` over the calibration feeds."""
    import onnx
    import onnxruntime as ort

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    existing = {o.name for o in probe.graph.output}
    for name in tensors:
        if name not in existing:
            probe.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    inputs = [i.name for i in session.get_inputs()]
    ranges: dict[str, np.ndarray] = {}
    for feed in feeds:
        found = session.run(list(tensors), {k: np.asarray(feed[k], dtype=np.int64) for k in inputs})
        for name, values in zip(tensors, found, strict=True):
            peak = np.abs(values.reshape(-1, values.shape[-1])).max(axis=0)
            ranges[name] = np.maximum(ranges[name], peak) if name in ranges else peak
    return ranges


def smooth(source: Path, target: Path, feeds: Sequence[Mapping[str, np.ndarray]]) -> int:
    """Write the smoothed graph of `source` to `target`; the number of MatMuls smoothed."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(source))
    nodes = _weight_matmuls(model)
    if not nodes:
        onnx.save(model, str(target))
        return 0
    ranges = _activation_ranges(model, [n.input[0] for n in nodes], feeds)
    initializers = {i.name: i for i in model.graph.initializer}
    smoothed = 0
    for node in nodes:
        weight = numpy_helper.to_array(initializers[node.input[1]]).astype(np.float32)
        activation = ranges[node.input[0]]
        if activation.shape[0] != weight.shape[0]:
            continue
        weight_peak = np.abs(weight).max(axis=1)
        scale = np.where(
            (activation > 0) & (weight_peak > 0),
            activation**ALPHA / np.maximum(weight_peak, 1e-8) ** (1 - ALPHA),
            1.0,
        ).astype(np.float32)
        scale = np.clip(scale, 1e-4, 1e4)
        initializers[node.input[1]].CopyFrom(numpy_helper.from_array(weight * scale[:, None], node.input[1]))
        divisor = f"{node.name or node.output[0]}/smooth_scale"
        model.graph.initializer.append(numpy_helper.from_array((1.0 / scale).astype(np.float32), divisor))
        scaled = f"{node.input[0]}/smoothed_for_{node.output[0]}"
        model.graph.node.append(onnx.helper.make_node("Mul", [node.input[0], divisor], [scaled]))
        node.input[0] = scaled
        smoothed += 1
    _sort_topologically(model)
    onnx.save(model, str(target))
    return smoothed


def _sort_topologically(model: Any) -> None:
    """Put the appended Mul nodes before the MatMuls that read them (ONNX wants producers first)."""
    import onnx

    available = {i.name for i in model.graph.input} | {i.name for i in model.graph.initializer}
    pending = []
    for node in model.graph.node:  # copies: the graph's own list is emptied below
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        pending.append(copy)
    ordered = []
    while pending:
        ready = [n for n in pending if all(not name or name in available for name in n.input)]
        if not ready:  # a cycle or a missing input: leave the rest as it was
            ordered.extend(pending)
            break
        for node in ready:
            ordered.append(node)
            available.update(node.output)
        taken = {id(n) for n in ready}
        pending = [n for n in pending if id(n) not in taken]
    del model.graph.node[:]
    model.graph.node.extend(ordered)

"""Engines: one loaded graph each, token tensors in, the task's named outputs (float32 arrays) out.

The runtime a task receives calls one of these; no task code knows which backend answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from tunesmith.tasks.base import GRAPH_INPUTS
from tunesmith.threads import compute_threads

if TYPE_CHECKING:
    import torch


class Engine(Protocol):
    name: str

    def __call__(self, tensors: Mapping[str, Any]) -> dict[str, np.ndarray]: ...


def as_array(value: Any) -> np.ndarray:
    """numpy arrays pass; a torch tensor (or anything with `.numpy()`) is converted."""
    if isinstance(value, np.ndarray):
        return value
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


def as_tensor(value: Any) -> torch.Tensor:
    import torch

    return value if isinstance(value, torch.Tensor) else torch.from_numpy(np.asarray(value))


def graph_inputs(tensors: Mapping[str, Any]) -> dict[str, Any]:
    """The tokenizer's outputs that the graph reads, in the graph's argument order."""
    return {name: tensors[name] for name in GRAPH_INPUTS if name in tensors}


class TorchEngine:
    """The task's inference graph in eager PyTorch (the trained model, as trained)."""

    name = "torch"

    def __init__(self, graph: torch.nn.Module, outputs: Sequence[str]) -> None:
        self.graph = graph.eval()
        self.outputs = tuple(outputs)

    def __call__(self, tensors: Mapping[str, Any]) -> dict[str, np.ndarray]:
        import torch

        feed = {k: as_tensor(v) for k, v in graph_inputs(tensors).items()}
        with torch.inference_mode():
            result = self.graph(**feed)
        return {name: t.float().numpy() for name, t in zip(self.outputs, result, strict=True)}


class OnnxEngine:
    """An ONNX file in onnxruntime on the CPU; inputs the graph does not read are not fed."""

    def __init__(self, path: Path, outputs: Sequence[str], name: str = "onnx") -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # warnings about unused initializers are not the user's
        # One thread budget per process, for PyTorch and onnxruntime alike: a server with several
        # workers sets it (set_compute_threads) so that workers x threads fit the cores.
        options.intra_op_num_threads = compute_threads()
        options.inter_op_num_threads = 1
        # Idle compute threads sleep instead of spinning: a spinning pool took the CPU the server's
        # event loop needed between batches (measured: batches of 1.4 texts at 64 clients).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name: i.type for i in self.session.get_inputs()}
        self.outputs = tuple(outputs)
        self.name = name

    def __call__(self, tensors: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Each graph input from `tensors` in the graph's type (token ids as int64, the trees'
        features as float32); token type ids the tokenizer did not give are zeros."""
        feed = {}
        for name, kind in self.inputs.items():
            if name in tensors:
                feed[name] = as_array(tensors[name]).astype(
                    np.float32 if kind == "tensor(float)" else np.int64
                )
            else:
                feed[name] = np.zeros_like(as_array(tensors["input_ids"]), dtype=np.int64)
        result = self.session.run(list(self.outputs), feed)
        return {name: np.asarray(a, dtype=np.float32) for name, a in zip(self.outputs, result, strict=True)}


class TorchScriptEngine(TorchEngine):
    """A traced TorchScript graph (torch.jit.load: TorchScript's own loader, after the bundle's
    checksums said the file is the one exported)."""

    name = "torchscript"

    def __init__(self, path: Path, outputs: Sequence[str]) -> None:
        import torch

        super().__init__(torch.jit.load(str(path), map_location="cpu"), outputs)


def load_engine(name: str, path: Path, outputs: Sequence[str]) -> Engine:
    """The engine for an export file of format `name`."""
    if name == "torchscript":
        return TorchScriptEngine(path, outputs)
    return OnnxEngine(path, outputs, name)

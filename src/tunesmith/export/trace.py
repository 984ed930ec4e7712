"""Write a task's inference graph as an ONNX or TorchScript file, with dynamic batch and length.

torch.onnx.export runs its TorchScript-based exporter (`dynamo=False`): the torch.export-based one
needs onnxscript, and optimum's exporter does not support transformers 5. Attention is switched to
the plain ("eager") implementation while tracing: SDPA's mask shortcuts test tensor values in
Python, which a trace freezes into constants (measured: outputs off by 1.5e-2 on other inputs)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedModel

from tunesmith.runtime.engines import graph_inputs

ONNX_OPSET = 17


@contextmanager
def traceable(graph: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """The graph in eval mode with eager attention in every transformers model inside it; the
    attention each model had is restored afterwards."""
    models = [m for m in graph.modules() if isinstance(m, PreTrainedModel)]
    before = [m.config._attn_implementation for m in models]
    for model in models:
        model.set_attn_implementation("eager")
    graph.eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer and deprecation chatter, not the user's concern
            yield graph
    finally:
        for model, implementation in zip(models, before, strict=True):
            if implementation and implementation != "eager":
                model.set_attn_implementation(implementation)


def sample_inputs(
    tokenizer: Any, texts: Sequence[str], pairs: Sequence[str] | None, max_length: int
) -> dict[str, torch.Tensor]:
    """A padded batch of two examples of different lengths, so no axis is traced as a constant."""
    batch = tokenizer(
        list(texts),
        list(pairs) if pairs else None,
        truncation=True,
        max_length=max_length,
        padding=True,
        return_tensors="pt",
    )
    return graph_inputs(batch)


def _dynamic_axes(
    sample: Mapping[str, torch.Tensor], outputs: Sequence[str], results: Sequence[torch.Tensor]
) -> dict[str, dict[int, str]]:
    length = sample["input_ids"].shape[1]
    axes: dict[str, dict[int, str]] = {name: {0: "batch", 1: "sequence"} for name in sample}
    for name, result in zip(outputs, results, strict=True):
        axes[name] = {0: "batch"}
        if result.dim() >= 2 and result.shape[1] == length:  # per-token outputs (NER tags, QA spans)
            axes[name][1] = "sequence"
    return axes


def write_onnx(
    graph: torch.nn.Module, sample: Mapping[str, torch.Tensor], outputs: Sequence[str], path: Path
) -> None:
    with traceable(graph) as module, torch.inference_mode():
        results = module(**sample)
    with traceable(graph) as module:
        torch.onnx.export(
            module,
            (),
            str(path),
            kwargs=dict(sample),
            input_names=list(sample),
            output_names=list(outputs),
            dynamic_axes=_dynamic_axes(sample, outputs, results),
            opset_version=ONNX_OPSET,
            dynamo=False,
        )


def write_torchscript(graph: torch.nn.Module, sample: Mapping[str, torch.Tensor], path: Path) -> None:
    with traceable(graph) as module:
        traced = torch.jit.trace(module, example_kwarg_inputs=dict(sample), strict=False, check_trace=False)
        traced.save(str(path))

"""The inference graph of an encoder task: token ids in, named output tensors out.

Eager PyTorch runs exactly this module, and the exporters (ONNX, TorchScript) trace exactly this
module, so an export is checked against the very computation it replaces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch


class OutputsGraph(torch.nn.Module):
    """`model(**inputs)` -> the outputs named in `outputs` (e.g. logits), as a tuple."""

    def __init__(self, model: Any, outputs: Sequence[str]) -> None:
        super().__init__()
        self.model = model
        self.outputs = tuple(outputs)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, ...]:
        extra = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        result = self.model(input_ids=input_ids, attention_mask=attention_mask, **extra)
        return tuple(result[name] for name in self.outputs)


class EmbeddingGraph(torch.nn.Module):
    """`model.embed(ids, mask)` -> (unit-length sentence vectors,): a bi-encoder's one graph."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor]:
        return (self.model.embed(input_ids, attention_mask),)

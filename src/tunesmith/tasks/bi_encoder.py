"""The bi-encoder's training model: one encoder embeds questions and answers alike (mean pooling,
unit length), trained with in-batch negatives; and the collator that pads the two texts apart.
PyTorch modules, imported only where a bi-encoder is built or trained."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from transformers import PreTrainedTokenizerBase

from tunesmith.models.pooling import mean_pool


class BiEncoder(torch.nn.Module):
    """One encoder embeds questions and answers alike; the loss ranks each positive pair's answer
    above every other answer in the batch."""

    def __init__(self, encoder: Any, scale: float = 20.0) -> None:
        super().__init__()
        self.encoder = encoder
        self.config = encoder.config
        self.scale = scale

    @property
    def base_model(self) -> Any:  # what `train.freeze` walks for the layer stack
        return self.encoder.base_model

    def get_input_embeddings(self) -> Any:
        return self.encoder.get_input_embeddings()

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return F.normalize(mean_pool(hidden, attention_mask), dim=-1)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        pair_input_ids: torch.Tensor,
        pair_attention_mask: torch.Tensor,
        labels: torch.Tensor | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        questions = self.embed(input_ids, attention_mask)
        answers = self.embed(pair_input_ids, pair_attention_mask)
        scores = (questions * answers).sum(-1)
        loss = None
        if labels is not None:
            positive = labels == 1
            if positive.any():
                similarity = questions[positive] @ answers.T * self.scale
                loss = F.cross_entropy(similarity, positive.nonzero().squeeze(1))
            else:
                loss = scores.sum() * 0.0
        return {"loss": loss, "logits": scores}

    def save_pretrained(self, path: Any, **kwargs: Any) -> None:
        self.encoder.save_pretrained(path, **kwargs)


class PairCollator:
    """Pads questions and answers separately (a bi-encoder reads them apart)."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase) -> None:
        self.tokenizer = tokenizer

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        first = self.tokenizer.pad(
            [{"input_ids": f["input_ids"], "attention_mask": f["attention_mask"]} for f in features],
            return_tensors="pt",
        )
        second = self.tokenizer.pad(
            [
                {"input_ids": f["pair_input_ids"], "attention_mask": f["pair_attention_mask"]}
                for f in features
            ],
            return_tensors="pt",
        )
        return {
            "input_ids": first["input_ids"],
            "attention_mask": first["attention_mask"],
            "pair_input_ids": second["input_ids"],
            "pair_attention_mask": second["attention_mask"],
            "labels": torch.tensor([int(f["labels"]) for f in features]),
        }

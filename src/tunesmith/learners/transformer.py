"""The fine-tuned transformer as one member of an ensemble: its token graph on whichever engine
answers (eager PyTorch, or its ONNX export), logits in input order.

With `remember`, each example's logits are kept (bounded), so a split that is scored twice - the
ensemble's answers, then each member's on the leaderboard - runs the transformer once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from tunesmith.learners.catalog import TRANSFORMER
from tunesmith.tasks.sequence_head import token_logits

REMEMBERED = 200_000  # examples whose logits are kept at most


def _key(example: dict[str, Any]) -> tuple[str, str | None]:
    return str(example.get("text")), example.get("text_pair")


class TokenMember:
    name = TRANSFORMER
    reads = ("text", "text_pair")

    def __init__(
        self,
        tokenizer: Any,
        infer: Callable[[Mapping[str, Any]], dict[str, np.ndarray]],
        max_length: int,
        width: int,
        batch_size: int = 64,
        model: Any = None,
    ) -> None:
        """`model`: the PyTorch model when it answers natively (what an export traces)."""
        self.model = model
        self.tokenizer = tokenizer
        self.infer = infer
        self.max_length = max_length
        self.width = width
        self.batch_size = batch_size
        self.remember = False
        self._seen: dict[tuple[str, str | None], np.ndarray] = {}

    def logits(self, examples: Sequence[dict[str, Any]]) -> np.ndarray:
        if not self.remember:
            return self._run(examples)
        missing = [e for e in examples if _key(e) not in self._seen]
        if missing:
            for example, row in zip(missing, self._run(missing), strict=True):
                if len(self._seen) < REMEMBERED:
                    self._seen[_key(example)] = row
            if any(_key(e) not in self._seen for e in examples):  # past the bound: answer directly
                return self._run(examples)
        return np.stack([self._seen[_key(e)] for e in examples]) if examples else self._run(examples)

    def _run(self, examples: Sequence[dict[str, Any]]) -> np.ndarray:
        return token_logits(
            self.tokenizer, self.infer, examples, self.max_length, self.batch_size, self.width
        ).astype(np.float32)

    def check(self, example: dict[str, Any]) -> None:
        return None

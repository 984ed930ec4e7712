"""The tokenizer an ONNX export answers with: the `tokenizers` library reading the bundle's
tokenizer.json, called the way transformers' fast tokenizer is called, without importing
transformers (whose import, with PyTorch behind it, took most of a served ONNX model's memory and
start-up). transformers' fast tokenizers run this same library, so the ids are the same ones;
tests/test_onnx_runtime.py compares them."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

TOKENIZER_FILE = "tokenizer.json"


def _token(value: Any) -> str | None:
    """A special token as tokenizer_config.json stores it: a string, or {"content": ...}."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


class PlainTokenizer:
    """`tokenizer(texts, pairs, truncation=True, max_length=n, padding=True, return_tensors="np")`
    and `tokenizer(text, add_special_tokens=False)["input_ids"]`: what the sequence tasks and
    the bi-encoder call when they answer (token windows and offsets stay with transformers)."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        config_file = folder / "tokenizer_config.json"
        config = json.loads(config_file.read_text(encoding="utf-8")) if config_file.is_file() else {}
        self.padding_side = config.get("padding_side", "right")
        self.truncation_side = config.get("truncation_side", "right")
        pad = _token(config.get("pad_token"))
        self.pad_token = pad or "[PAD]"
        found = self.tokenizer.token_to_id(self.pad_token) if pad else None
        self.pad_token_id = 0 if found is None else found
        self._lock = threading.Lock()  # truncation and padding are settings of the shared tokenizer

    def __call__(
        self,
        text: str | Sequence[str],
        text_pair: Sequence[str] | None = None,
        *,
        truncation: bool = False,
        max_length: int | None = None,
        padding: bool = False,
        add_special_tokens: bool = True,
        return_tensors: str | None = None,
    ) -> dict[str, Any]:
        if isinstance(text, str):  # one text, unpadded: lists of ids, as transformers gives them
            encoding = self.tokenizer.encode(text, add_special_tokens=add_special_tokens)
            return {"input_ids": encoding.ids, "attention_mask": encoding.attention_mask}
        if return_tensors not in (None, "np"):
            raise ValueError(f"return_tensors={return_tensors!r}: this tokenizer gives numpy arrays")
        inputs = list(zip(text, text_pair, strict=True)) if text_pair is not None else list(text)
        with self._lock:
            encodings = self._encode(inputs, truncation, max_length, padding, add_special_tokens)
        columns = {
            "input_ids": [e.ids for e in encodings],
            "token_type_ids": [e.type_ids for e in encodings],
            "attention_mask": [e.attention_mask for e in encodings],
        }
        if return_tensors == "np":
            return {name: np.asarray(rows, dtype=np.int64) for name, rows in columns.items()}
        return columns

    def _encode(
        self, inputs: list[Any], truncation: bool, max_length: int | None, padding: bool, special: bool
    ) -> list[Any]:
        if truncation and max_length:
            self.tokenizer.enable_truncation(
                max_length, strategy="longest_first", direction=self.truncation_side
            )
        else:
            self.tokenizer.no_truncation()
        if padding:
            self.tokenizer.enable_padding(
                direction=self.padding_side, pad_id=self.pad_token_id, pad_token=self.pad_token
            )
        else:
            self.tokenizer.no_padding()
        return self.tokenizer.encode_batch(inputs, add_special_tokens=special)  # type: ignore[no-any-return]


def plain_tokenizer(folder: Path) -> PlainTokenizer | None:
    """The bundle's tokenizer without transformers, or None when it has no tokenizer.json (a slow,
    Python-only tokenizer: transformers loads it)."""
    return PlainTokenizer(folder) if (folder / TOKENIZER_FILE).is_file() else None

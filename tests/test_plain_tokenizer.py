"""The tokenizer an ONNX export answers with (the `tokenizers` library alone) gives the ids,
type ids and masks transformers' tokenizer gives: texts and pairs, padded, cut at max_length."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from transformers import AutoTokenizer

from tunesmith.runtime.tokenizer import PlainTokenizer

TEXTS = ["如何重置密码?", "my card was declined at the shop today", "好", "退款什么时候到账 refund " * 20]
PAIRS = ["请在设置里重置", "try another card", "", "three to five days"]


def test_plain_tokenizer_gives_transformers_ids(tiny_model: Path) -> None:
    plain, reference = PlainTokenizer(tiny_model), AutoTokenizer.from_pretrained(tiny_model)
    for pairs in (None, PAIRS):
        for max_length in (8, 64):
            options = {"truncation": True, "max_length": max_length, "padding": True}
            ours = plain(TEXTS, pairs, **options, return_tensors="np")
            theirs = reference(TEXTS, pairs, **options, return_tensors="np")
            for name in theirs:
                np.testing.assert_array_equal(
                    ours[name], theirs[name], err_msg=f"{name} {max_length} {pairs}"
                )
            assert ours["input_ids"].shape[1] <= max_length
    alone = plain(TEXTS[0], add_special_tokens=False)["input_ids"]
    assert alone == reference(TEXTS[0], add_special_tokens=False)["input_ids"]
    assert plain.pad_token_id == reference.pad_token_id

"""What counts as the same answer when an export is proven, and which backend names are accepted."""

from __future__ import annotations

import pytest

from tunesmith.errors import TunesmithError
from tunesmith.runtime.formats import check_backend, format_named
from tunesmith.runtime.parity import agreement, same_answer


def test_decisions_must_match_and_confidences_may_move() -> None:
    a = {"label": "refund", "score": 0.91, "probabilities": {"refund": 0.91, "card": 0.09}}
    assert same_answer(a, {"label": "refund", "score": 0.88, "probabilities": {"refund": 0.88, "card": 0.12}})
    assert not same_answer(
        a, {"label": "card", "score": 0.51, "probabilities": {"refund": 0.49, "card": 0.51}}
    )
    spans = {"entities": [{"text": "李娜", "label": "nr", "start": 0, "end": 2, "score": 0.9}]}
    moved = {"entities": [{"text": "李娜", "label": "nr", "start": 0, "end": 3, "score": 0.9}]}
    assert same_answer(spans, spans) and not same_answer(spans, moved)
    ranked = {"answers": [{"answer": "a", "score": 0.9}, {"answer": "b", "score": 0.8}]}
    swapped = {"answers": [{"answer": "b", "score": 0.9}, {"answer": "a", "score": 0.8}]}
    assert not same_answer(ranked, swapped)  # a ranking is a decision
    assert same_answer({"value": 3.0001}, {"value": 3.0})  # a number that is the answer: 1e-3
    assert not same_answer({"value": 3.01}, {"value": 3.0})
    assert agreement([a, a, a, a], [a, a, a, {"label": "card"}]) == 0.75 and agreement([], []) == 1.0


def test_formats_and_backends_are_named_or_refused_in_one_line() -> None:
    assert format_named("onnx", "int8").name == "onnx-int8" and format_named("torchscript").file == "model.pt"
    for fmt, quantize, said in (
        ("tflite", None, "use one of onnx, torchscript"),
        ("torchscript", "int8", "TorchScript exports stay fp32"),
        ("onnx", "int4", "only int8"),
    ):
        with pytest.raises(TunesmithError, match=said):
            format_named(fmt, quantize)
    assert check_backend("auto") == "auto"
    with pytest.raises(TunesmithError, match="--backend 'gpu'"):
        check_backend("gpu")

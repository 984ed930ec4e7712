"""NER input formats, span bookkeeping through cleaning and de-identification, entity metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunesmith.data.clean import build_cleaner
from tunesmith.recipe import CleanSection
from tunesmith.tasks import get_task
from tunesmith.tasks.entity_spans import entities_from_tokens, move_spans

TASK = get_task("token_classification")
CLEAN = build_cleaner(CleanSection())


def _no_pii(text: str) -> tuple[str, list]:
    return text, []


def _spans_text(text: str, spans: list) -> list[str]:
    return [f"{text[s:e]}/{k}" for s, e, k in spans]


def test_the_three_formats_give_text_and_character_spans() -> None:
    text, spans = TASK.read_annotated(
        "中共中央/nt 致/o 中国/ns 致公党/nt 张三/nr 同志/o", None, CLEAN, _no_pii
    )
    assert text == "中共中央致中国致公党张三同志"
    assert _spans_text(text, spans) == ["中共中央/nt", "中国/ns", "致公党/nt", "张三/nr"]
    tokens = ["John", "Smith", "lives", "in", "New", "York", "."]
    tags = ["B-PER", "I-PER", "O", "O", "B-LOC", "I-LOC", "O"]
    text, spans = TASK.read_annotated(tokens, tags, CLEAN, _no_pii)
    assert text == "John Smith lives in New York ." and _spans_text(text, spans) == [
        "John Smith/PER",
        "New York/LOC",
    ]
    raw = "Ｃall  Mary at ACME\u200b Corp today"  # full-width letter, double space, zero-width space
    labelled = [{"start": 6, "end": 10, "label": "PER"}, {"start": 14, "end": 24, "label": "ORG"}]
    text, spans = TASK.read_annotated(raw, labelled, CLEAN, _no_pii)
    assert _spans_text(text, spans) == ["Mary/PER", "ACME Corp/ORG"] and text.startswith("Call Mary at")


def test_spans_follow_deidentification_edits() -> None:
    text = "Call Mary at 555-123-4567 or mail mary@x.com"
    spans = [[5, 9, "PER"], [13, 25, "PHONE"], [34, 44, "EMAIL"]]
    assert _spans_text(text, spans) == ["Mary/PER", "555-123-4567/PHONE", "mary@x.com/EMAIL"]
    edits = [(13, 25, "[PHONE]"), (34, 44, "[EMAIL]")]
    new = "Call Mary at [PHONE] or mail [EMAIL]"
    assert _spans_text(new, move_spans(spans, edits)) == ["Mary/PER", "[PHONE]/PHONE", "[EMAIL]/EMAIL"]
    # a boundary inside a replaced value snaps to the replacement's edge
    assert move_spans([[15, 30, "X"]], edits) == [[13, 25, "X"]]


def test_bad_annotations_are_errors_with_the_reason() -> None:
    with pytest.raises(ValueError, match="2 tokens but 1 tags"):
        TASK.read_annotated(["a", "b"], ["O"], CLEAN, _no_pii)
    with pytest.raises(ValueError, match="outside the text"):
        TASK.read_annotated("short", [[0, 99, "X"]], CLEAN, _no_pii)
    with pytest.raises(ValueError, match="not word/tag"):
        TASK.read_annotated("word/nr broken", None, CLEAN, _no_pii)


def test_entities_merge_bio_tokens_and_metrics_are_entity_level(tmp_path: Path) -> None:
    text = "王芳在北京"
    offsets = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    entities = entities_from_tokens(text, offsets, ["B-nr", "I-nr", "O", "B-ns", "I-ns"], [0.9] * 5)
    assert [(e["text"], e["label"]) for e in entities] == [("王芳", "nr"), ("北京", "ns")]
    records = [{"text": text, "label": [[0, 2, "nr"], [3, 5, "ns"]]}]
    half = [{"entities": [{"start": 0, "end": 2, "label": "nr"}, {"start": 3, "end": 4, "label": "ns"}]}]
    metrics = TASK.evaluate(records, half, ["O", "B-nr", "I-nr", "B-ns", "I-ns"], tmp_path, "test")
    # the place is cut short: a wrong span counts as a miss and a false alarm (exact-match scoring)
    assert metrics["precision"] == 0.5 and metrics["recall"] == 0.5 and metrics["per_type"]["nr"]["f1"] == 1.0

"""The pieces of POST /v1/answer that decide alone: the hand-over threshold fitted on validation,
the grounding check of a rewrite, and the safety filter with the packaged and an edited list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunesmith.errors import TunesmithError
from tunesmith.serve.knowledge import grounded
from tunesmith.serve.safety import SafetyFilter
from tunesmith.tasks.matching import handover_threshold


def test_threshold_answers_the_most_questions_at_the_asked_precision() -> None:
    answerable = [(0.95, True), (0.9, True), (0.85, True), (0.8, False), (0.7, True), (0.6, False)]
    unanswerable = [0.75, 0.5, 0.4]  # the best wrong answer once the right one is gone
    fitted = handover_threshold(answerable, unanswerable, precision=0.75)
    # down to 0.8: 3 right of 4 given; one lower the unanswerable 0.75 would be answered (3 of 5)
    assert fitted["answer_threshold"] == 0.8 and fitted["answer_precision"] == 0.75
    assert fitted["answer_coverage"] == round(4 / 6, 4) and fitted["answer_unanswerable_handed_over"] == 1.0
    strict = handover_threshold(answerable, unanswerable, precision=1.0)
    assert strict["answer_threshold"] == 0.85 and strict["answer_coverage"] == 0.5
    assert strict["answer_unanswerable_handed_over"] == 1.0 and strict["answer_recall_at_1"] == round(
        4 / 6, 4
    )
    never = handover_threshold([(0.9, False), (0.5, True)], [0.95], precision=0.9)
    assert never["answer_threshold"] > 0.95 and never["answer_coverage"] == 0  # every question to a person


def test_ties_are_answered_or_handed_over_together() -> None:
    fitted = handover_threshold([(0.9, True), (0.8, True)], [0.8], precision=0.9)
    assert fitted["answer_threshold"] == 0.9 and fitted["answer_coverage"] == 0.5


def test_a_rewrite_is_grounded_only_on_the_answers_numbers_and_words() -> None:
    source = "Refunds reach your account in 3 to 5 working days."
    assert grounded("Don't worry: refunds reach your account in 3 to 5 working days!", source) is None
    assert "numbers not in the answer: 7" in (grounded("Refunds reach your account in 7 days.", source) or "")
    assert "words come from the answer" in (
        grounded("Please call our hotline tomorrow morning.", source) or ""
    )
    assert grounded("退款将在三到五个工作日内退回,请放心。", "退款将在三到五个工作日内原路退回。") is None


def test_the_filter_masks_personal_data_and_refuses_listed_terms_in_both_languages(tmp_path: Path) -> None:
    packaged = SafetyFilter(None, tmp_path)
    masked = packaged.check("请拨打 13812345678 或写信到 help@acme.com")
    assert masked.text == "请拨打 [PHONE] 或写信到 [EMAIL]" and masked.redacted == {"PHONE": 1, "EMAIL": 1}
    assert packaged.check("怎么洗钱").topic == "fraud_and_evasion"
    assert packaged.check("How do I LAUNDER  MONEY?").refused  # any case, any spacing
    assert packaged.check("ＢＯＭＢ threat").refused  # full-width letters
    assert not packaged.check("a bombastic offer").refused  # whole words only in English
    packaged.log("v.1.x", "v", "answer", masked)
    packaged.log("v.2.x", "v", "answer", packaged.check("all fine"))  # nothing filtered: no line
    lines = [json.loads(line) for line in (tmp_path / "safety.jsonl").read_text().splitlines()]
    assert len(lines) == 1 and lines[0]["redacted"] == {"PHONE": 1, "EMAIL": 1}
    assert "13812345678" not in json.dumps(lines)
    edited = tmp_path / "list.yaml"
    edited.write_text("refusal: No.\ntopics: {}\nterms: [Acme Rival]\n", encoding="utf-8")
    company = SafetyFilter(str(edited), tmp_path)
    verdict = company.check("try acme rival instead")
    assert verdict.refused and verdict.text == "No." and verdict.topic == "terms"
    assert not company.check("怎么洗钱").refused  # the edited list is the whole list


def test_a_broken_list_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "list.yaml"
    broken.write_text("topics: {weapons: bomb}\n", encoding="utf-8")
    with pytest.raises(TunesmithError, match=r"list\.yaml: needs a 'refusal'"):
        SafetyFilter(str(broken), tmp_path)
    broken.write_text("refusal: No.\ntopics: {weapons: bomb}\n", encoding="utf-8")
    with pytest.raises(TunesmithError, match="topic 'weapons' must be a list"):
        SafetyFilter(str(broken), tmp_path)

"""Which variant serves: the quality rule on real answers (paired bootstrap of the headline metric
on validation, plus the agreement floor), and the pick among those that hold by measured speed."""

from __future__ import annotations

import random

from tunesmith.export.quality import QualityRule, judge
from tunesmith.recipe.delivery import ExportSection
from tunesmith.runtime.serving_choice import Candidate, batch_sizes, pick, time_engines
from tunesmith.tasks import get_task

LABELS = ["billing", "delivery", "login", "refund"]


def _validation(count: int = 400) -> tuple[list[dict], list[dict]]:
    """Records with their labels, and the trained model's answers: 90% right."""
    rng = random.Random(0)
    records = [{"text": f"text {i}", "label": rng.choice(LABELS)} for i in range(count)]
    answers = []
    for record in records:
        right = rng.random() < 0.9
        label = record["label"] if right else rng.choice([x for x in LABELS if x != record["label"]])
        answers.append({"label": label, "score": 0.9})
    return records, answers


def _flip(records: list[dict], answers: list[dict], count: int, were_right: bool) -> list[dict]:
    """`count` answers changed to another wrong label: among those the model got right (a loss),
    or among those it got wrong already (no loss)."""
    changed = [dict(a) for a in answers]
    flipped = 0
    for record, answer in zip(records, changed, strict=True):
        if flipped == count:
            break
        if (answer["label"] == record["label"]) == were_right:
            answer["label"] = next(x for x in LABELS if x not in (record["label"], answer["label"]))
            flipped += 1
    return changed


def test_a_variant_that_only_moves_wrong_answers_holds_at_98_but_not_at_99_5() -> None:
    task = get_task("classification")
    records, trained = _validation()
    variant = _flip(records, trained, 6, were_right=False)  # 98.5% agree, no answer lost
    loose = judge(task, records, trained, variant, LABELS, QualityRule.of(ExportSection()))
    assert loose.holds and loose.agreement == 0.985 and loose.difference is not None and loose.low is not None
    assert abs(loose.difference) < 0.5  # macro-F1 moves a little as wrong answers move between labels
    assert loose.low <= 0 <= loose.high
    strict = judge(task, records, trained, variant, LABELS, QualityRule.of(ExportSection(agreement=0.995)))
    assert not strict.holds and "below 99.50%" in strict.reason


def test_a_variant_that_loses_right_answers_is_refused_though_98_percent_agree() -> None:
    task = get_task("classification")
    records, trained = _validation()
    variant = _flip(records, trained, 6, were_right=True)  # 98.5% agree, 6 right answers lost
    verdict = judge(task, records, trained, variant, LABELS, QualityRule.of(ExportSection()))
    assert verdict.agreement == 0.985 and verdict.difference is not None and verdict.difference < 0
    assert verdict.low is not None and verdict.low < -0.5 and not verdict.holds
    assert "below -0.5 points" in verdict.reason
    wide = judge(task, records, trained, variant, LABELS, QualityRule(0.98, 5.0))  # a looser margin takes it
    assert wide.holds


def test_int8_keeps_its_own_agreement_target_when_the_recipe_sets_one() -> None:
    export = ExportSection.model_validate({"agreement": 0.98, "int8": {"min_agreement": 0.999}})
    assert QualityRule.of(export, int8=True).agreement == 0.999
    assert QualityRule.of(export).agreement == 0.98


def test_the_fastest_variant_that_holds_serves() -> None:
    fp32 = Candidate("onnx", True, "every answer identical", {1: 3.0, 8: 1.2, 32: 1.0})
    int8 = Candidate("onnx-int8", True, "98.6% agree", {1: 1.8, 8: 0.7, 32: 0.6})
    slow_int8 = Candidate("onnx-int8", True, "99.7% agree", {1: 3.5, 8: 1.4, 32: 1.1})
    assert pick([fp32, int8])[0] == "onnx-int8"
    assert pick([fp32, slow_int8])[0] == "onnx"  # block-wise int8 that is slower than fp32
    refused = Candidate("onnx-int8", False, "accuracy -1.5 points", int8.ms_per_text)
    name, why = pick([fp32, refused])
    assert name == "onnx" and "not onnx-int8 (accuracy -1.5 points)" in why
    assert batch_sizes(32) == [1, 8, 32] and batch_sizes(1) == [1]


def test_engines_are_timed_in_turns_at_each_batch_size() -> None:
    calls: list[str] = []
    engines = {name: (lambda batch, name=name: calls.append(name)) for name in ("a", "b")}
    timed = time_engines(engines, {key: {1: [0, 0], 8: [0]} for key in engines}, {1: 2, 8: 8}, repeats=2)
    assert set(timed) == {"a", "b"} and all(set(t) == {1, 8} for t in timed.values())
    assert calls[4:] == ["a", "a", "b", "b", "a", "a", "b", "b", "a", "b", "a", "b"]  # after warm-up

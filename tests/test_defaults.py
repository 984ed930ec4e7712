"""Defaults that earn their accuracy: auto training values, imbalance handling, trivial baselines
and the guards that stop a run whose splits cannot judge it."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tunesmith import recipe as recipe_io
from tunesmith.data.guards import SplitsUnusable, check_splits, split_problems
from tunesmith.tasks import get_task
from tunesmith.tasks.classification import judge_class_weights
from tunesmith.tasks.multilabel import best_threshold
from tunesmith.train.auto import resolve
from tunesmith.train.losses import auto_class_weights, positive_weights


def _model(width: int) -> SimpleNamespace:
    return SimpleNamespace(config=SimpleNamespace(hidden_size=width))


def test_auto_training_values_follow_the_model_and_the_data_size() -> None:
    options = recipe_io.validate({"data": {"train": "x"}}).training
    small = resolve(options, _model(384), 8000, 1, lora=False).training
    assert small.learning_rate == 1e-4 and small.epochs == 10  # 250 steps an epoch, ~2,500 steps
    assert small.warmup_ratio == pytest.approx(0.08) and small.early_stopping_patience == 2  # 200 steps
    tiny_data = resolve(options, _model(768), 900, 1, lora=False)
    assert tiny_data.training.learning_rate == 5e-5 and tiny_data.training.epochs == 20
    assert tiny_data.training.early_stopping_patience == 4 and "at most 20" in tiny_data.reasons["epochs"]
    big = resolve(options, _model(1024), 200_000, 2, lora=False).training
    assert big.epochs == 1 and big.learning_rate == 2e-5 and big.warmup_ratio < 0.1  # 200 warm-up steps
    assert resolve(options, _model(384), 100, 1, lora=True).training.learning_rate == 2e-4
    fixed = recipe_io.validate({"data": {"train": "x"}, "training": {"epochs": 2, "learning_rate": 3e-5}})
    kept = resolve(fixed.training, _model(384), 8000, 1, lora=False)
    assert (kept.training.epochs, kept.training.learning_rate) == (2, 3e-5) and "epochs" not in kept.reasons
    # a cross-encoder learns pair attention anew: half the rate (1e-4 collapsed on ATEC pairs)
    cross = get_task(recipe_io.validate({"data": {"train": "x"}, "task": {"type": "matching"}}).task)
    bi = get_task(
        recipe_io.validate({"data": {"train": "x"}, "task": {"type": "matching", "matching_mode": "bi"}}).task
    )
    pairs = resolve(options, _model(384), 1200, 1, False, cross.learning_rate_scale)
    assert pairs.training.learning_rate == 5e-5 and "x0.5" in pairs.reasons["learning_rate"]
    assert (
        resolve(options, _model(384), 1200, 1, False, bi.learning_rate_scale).training.learning_rate == 1e-4
    )


def test_auto_class_weights_where_labels_are_imbalanced() -> None:
    classify, multi = get_task("classification"), get_task("multilabel")
    assert auto_class_weights(classify, {"a": 500, "b": 20}, ["a", "b"]) == "balanced"
    assert auto_class_weights(classify, {"a": 50, "b": 20}, ["a", "b"]) == "none"
    assert auto_class_weights(multi, {"x": 3}, ["x"]) == "sqrt"
    assert auto_class_weights(get_task("regression"), {}, ["value"]) == "none"
    # 1,000 records, 10 with the rare label: negatives / positives 99, damped to its square root
    assert positive_weights({"rare": 10, "common": 500}, 1000, ["rare", "common"], damped=True) == [
        pytest.approx(99**0.5),
        1.0,
    ]


def test_multilabel_thresholds_are_searched_over_the_scores_the_model_gives() -> None:
    truth = np.array([1, 0, 1, 0, 0, 0])
    scores = np.array([0.031, 0.010, 0.028, 0.029, 0.002, 0.001])  # all far below any 0.05 grid
    threshold, f1 = best_threshold(truth, scores)
    assert 0.010 < threshold < 0.028 and f1 == pytest.approx(0.8)  # 2 of 3 flagged are right
    task = get_task("multilabel")
    logits = np.log(np.stack([scores, 1 - scores], axis=1) / (1 - np.stack([scores, 1 - scores], axis=1)))
    state = task.calibrate(logits, [["rare"] if t else [] for t in truth], ["rare", "unseen"])
    assert state["thresholds"]["rare"] == pytest.approx(threshold) and state["untuned"] == ["unseen"]
    answers = task.decode(logits, [{"text": "x"}] * 6, ["rare", "unseen"], state)
    assert ["rare" in a["labels"] for a in answers] == [True, False, True, True, False, False]


def test_auto_class_weights_stay_only_where_they_raise_validation_macro_f1() -> None:
    weights = [0.5, 10.0, 10.0]
    truth = np.array([0] * 8 + [1, 2])
    # a model whose rare-label logits were raised by the weights and are right because of it
    helped = np.array([[2.0, 0, 0]] * 8 + [[1.0, 2.5, 0], [1.0, 0, 2.5]])
    assert judge_class_weights(helped, truth, weights) == {
        "class_weights": {
            "kept": True,
            "macro_f1_with": 1.0,
            "macro_f1_without": pytest.approx(0.2963, abs=1e-4),
        }
    }
    # the weights only turned right answers of the common label into wrong rare ones: undone
    hurt = np.array([[2.0, 2.2, 0]] * 8 + [[0, 3.0, 0], [0, 0, 3.0]])
    found = judge_class_weights(hurt, truth, weights)
    assert not found["class_weights"]["kept"]
    assert found["logit_adjustment"] == pytest.approx(list(-np.log(weights)))
    state = get_task("classification").calibrate(hurt, [str(t) for t in truth], ["0", "1", "2"], weights)
    answers = get_task("classification").decode(hurt, [{}] * 10, ["0", "1", "2"], state)
    assert [a["label"] for a in answers] == [str(t) for t in truth]


def test_every_task_has_a_trivial_baseline_shaped_like_its_answers() -> None:
    records = [{"text": "a b", "label": "x", "text_pair": "the context here"}] * 3
    name, answers = get_task("classification").trivial_answers(["x", "y", "x"], records, ["x", "y"])
    assert name == "the largest class, 'x'" and answers[0]["probabilities"] == pytest.approx(
        {"x": 2 / 3, "y": 1 / 3}
    )
    name, answers = get_task("multilabel").trivial_answers(
        [["a"], ["a", "b"], [], ["a"]], records, ["a", "b"]
    )
    assert name == "the label prior: always [a]" and answers[0]["labels"] == ["a"]
    assert get_task("regression").trivial_answers([1.0, 2.0, 6.0], records, ["value"])[1][0] == {"value": 3.0}
    assert (
        get_task("matching").trivial_answers(["1", "0", "0", "0"], records, ["0", "1"])[1][0]["match"] is True
    )
    assert get_task("seq2seq").trivial_answers(["y"], records, [])[1][0] == {"text": "a b"}
    qa = get_task("extractive_qa").trivial_answers(["abc", "abcde", "ab"], records, [])[1][0]
    assert qa["answer"] == "the"
    assert get_task("token_classification").trivial_answers([], records, [])[1][0] == {"entities": []}


def _report(counts: dict[str, int], removed: dict[str, int], labels: dict[str, dict[str, int]]) -> dict:
    return {"split_counts": counts, "duplicates": {"removed_by_split": removed}, "label_counts": labels}


def test_guards_name_collapsed_splits_and_missing_labels() -> None:
    collapsed = _report(
        {"train": 450, "validation": 1, "test": 2},
        {"train": 5, "validation": 56, "test": 55},
        {"train": {"a": 300, "b": 150}, "validation": {"a": 1}, "test": {"a": 2}},
    )
    problems = split_problems(collapsed, categorical=True)
    assert "cut the validation split from 57 records to 1" in problems[0]
    assert any("missing from validation: b (150 in train)" in p for p in problems)
    fine = _report({"train": 800, "validation": 100, "test": 100}, {"train": 3, "validation": 1, "test": 0},
                   {"train": {"a": 400, "b": 400}, "validation": {"a": 50, "b": 50}})  # fmt: skip
    assert split_problems(fine, categorical=True) == []
    mostly = _report(
        {"train": 300, "validation": 90, "test": 90}, {"train": 700, "validation": 10, "test": 10}, {}
    )
    assert "lost 700 of its 1,000 records (70%)" in split_problems(mostly, categorical=False)[0]


def test_guards_stop_with_the_likely_cause_unless_forced(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    report = _report(
        {"train": 40, "validation": 1, "test": 1}, {"train": 0, "validation": 20, "test": 20}, {}
    )
    (data / "report.json").write_text(json.dumps(report), encoding="utf-8")
    ids = [{"text": f"MZ-train-{i:04d}", "label": "a"} for i in range(40)]
    (data / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ids), encoding="utf-8")
    with pytest.raises(SplitsUnusable, match="the text looks like an id"):
        check_splits(tmp_path, categorical=False, force=False)
    assert len(check_splits(tmp_path, categorical=False, force=True)) == 2
    # whole documents per split: a category only some documents hold is missing for that reason
    (data / "report.json").write_text(
        json.dumps(
            _report(
                {"train": 900, "validation": 100, "test": 100},
                {},
                {"train": {"a": 400, "b": 60}, "validation": {"a": 40}},
            )
        ),
        encoding="utf-8",
    )
    with pytest.raises(SplitsUnusable, match="keeps each `doc` whole"):
        check_splits(tmp_path, categorical=True, force=False, group_field="doc")

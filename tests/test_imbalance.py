"""Class weights and focal loss: the loss itself against known values, and a run that uses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from conftest import fast_overrides
from helpers import faq_records, write_jsonl

from tunesmith import recipe as recipe_io
from tunesmith.errors import RecipeError
from tunesmith.pipeline.run import run
from tunesmith.train.losses import balanced_weights, weighted_focal_loss


def test_balanced_weights_follow_scikit_learn() -> None:
    # sklearn's compute_class_weight("balanced") on 8 a's and 2 b's: 10 / (2 * 8), 10 / (2 * 2)
    assert balanced_weights({"a": 8, "b": 2}, ["a", "b", "c"]) == [0.625, 2.5, 1.0]


def test_loss_reduces_to_cross_entropy_and_weights_and_focus_act() -> None:
    torch.manual_seed(0)
    logits, targets = torch.randn(6, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    assert weighted_focal_loss(logits, targets, None, 0.0) == pytest.approx(
        F.cross_entropy(logits, targets).item()
    )
    weights = torch.tensor([1.0, 2.0, 0.5])
    expected = F.cross_entropy(logits, targets, weight=weights).item()
    assert weighted_focal_loss(logits, targets, weights, 0.0) == pytest.approx(expected)
    # focal: an example the model is sure of (p = 0.99) loses almost all its weight, a hard one little
    sure, unsure = torch.tensor([[5.0, 0.4, 0.4]]), torch.tensor([[0.1, 0.0, 0.0]])
    target = torch.tensor([0])
    ratio_sure = weighted_focal_loss(sure, target, None, 2.0) / weighted_focal_loss(sure, target, None, 0.0)
    ratio_unsure = weighted_focal_loss(unsure, target, None, 2.0) / weighted_focal_loss(
        unsure, target, None, 0.0
    )
    assert ratio_sure < 0.001 and ratio_unsure > 0.4


def test_run_with_balanced_weights_records_them(tmp_path: Path, tiny_model: Path) -> None:
    records = [r for r in faq_records(240) if r["intent"] != "card" or r["id"].endswith(("0", "4"))]
    data = write_jsonl(tmp_path / "faq.jsonl", records)  # 'card' is now the rare label
    path = tmp_path / "r.yaml"
    path.write_text(f"data: {{train: {data.name}, text_field: question, label_field: intent}}\n")
    extra = ["training.class_weights=balanced", "training.focal_gamma=1.0", "training.epochs=2"]
    extra.append("evaluation.baseline_gate=false")  # two epochs on 180 records: about weights, not skill
    recipe = recipe_io.load(path, [*fast_overrides(tiny_model), *extra])
    out = run(recipe, tmp_path / "weighted")
    summary = json.loads((out / "train_summary.json").read_text())
    weights = summary["class_weights"]
    assert weights["card"] > 1.5 > weights["refund"] and summary["focal_gamma"] == 1.0
    assert "test" in json.loads((out / "metrics.json").read_text())


def test_weights_refused_where_they_do_not_apply(tmp_path: Path) -> None:
    from tunesmith.tasks import get_task
    from tunesmith.train.stage import _imbalance_loss

    recipe = recipe_io.validate(
        {"data": {"train": "x"}, "task": {"type": "regression"}, "training": {"class_weights": "balanced"}}
    )
    with pytest.raises(RecipeError, match="single-label classification"):
        _imbalance_loss(tmp_path, recipe, get_task("regression"), ["value"])


def test_oversampling_raises_rare_labels_to_the_asked_share_and_is_seeded() -> None:
    from collections import Counter

    from tunesmith.train.oversample import oversampled_indices

    labels = [0] * 100 + [1] * 7 + [2] * 30
    indices = oversampled_indices(labels, 0.5, seed=1)
    counts = Counter(labels[i] for i in indices)
    assert counts == {0: 100, 1: 50, 2: 50}
    assert set(range(len(labels))) <= set(indices)  # every original example is kept
    assert indices == oversampled_indices(labels, 0.5, seed=1)
    assert indices != oversampled_indices(labels, 0.5, seed=2)


def test_threshold_tuned_for_best_f1_or_a_target_precision_or_recall() -> None:
    from tunesmith.tasks.binary_scores import recall_at_precision, tuned_threshold

    scores = [0.1, 0.2, 0.3, 0.35, 0.4, 0.6, 0.7, 0.8, 0.9, 0.95]
    truth = [0, 0, 0, 1, 0, 1, 0, 1, 1, 1]
    assert tuned_threshold(scores, truth)["objective"] == "f1"
    # precision >= 0.95: only scores >= 0.8 are all positives (3 of 5 positives found)
    strict = tuned_threshold(scores, truth, {"precision": 0.95})
    assert strict == {"threshold": 0.8, "objective": {"precision": 0.95}, "reached": True}
    assert recall_at_precision(truth, scores, 0.95) == pytest.approx(0.6)
    # recall >= 1.0: the threshold must reach down to 0.35, the lowest-scored positive
    assert tuned_threshold(scores, truth, {"recall": 1.0})["threshold"] == 0.35
    assert tuned_threshold([0.5, 0.5], [0, 1], {"precision": 0.99})["reached"] is False


def test_binary_run_tunes_threshold_oversamples_and_tracks_in_mlflow(
    tmp_path: Path, tiny_model: Path
) -> None:
    import mlflow

    records = [{**r, "is_refund": int(r["intent"] == "refund")} for r in faq_records(240)]
    data = write_jsonl(tmp_path / "faq.jsonl", records)  # 1 in 4 positive
    path = tmp_path / "r.yaml"
    path.write_text(f"data: {{train: {data.name}, text_field: question, label_field: is_refund}}\n")
    extra = [
        "training.oversample=1.0",
        "task.threshold={precision: 0.9}",
        "training.tracking=[tensorboard, mlflow]",
        "training.epochs=3",
    ]
    out = run(recipe_io.load(path, [*fast_overrides(tiny_model), *extra]), tmp_path / "binary")
    state = json.loads((out / "model" / "task_state.json").read_text())
    assert state["positive"] == "1" and state["objective"] == {"precision": 0.9}
    assert 0.0 < state["threshold"] < 1.0
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["oversample"] == 1.0
    metrics = json.loads((out / "metrics.json").read_text())["test"]
    assert metrics["accuracy"] > 0.8
    # Binary reports: ranking scores, a threshold table with the operating point, ROC/PR curves.
    assert 0 <= metrics["pr_auc"] <= 1 and len(metrics["threshold_table"]) >= 9
    assert (out / "roc_pr_test.png").is_file()
    # The answers follow the stored threshold, not the argmax.
    from tunesmith.runtime.predict import Predictor

    answers = Predictor.from_run(out).predict_raw([{"text": "退款什么时候到账"}, {"text": "忘记密码"}])
    for answer in answers:
        assert (answer["label"] == "1") == (answer["probabilities"]["1"] >= state["threshold"])
    # MLflow's local SQLite store holds the training curves; nothing left the machine.
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    (found,) = client.search_runs(client.get_experiment_by_name("run").experiment_id)
    assert "loss" in found.data.metrics and "eval_macro_f1" in found.data.metrics
    assert list((out / "logs").glob("events.out.tfevents.*"))


def test_training_refuses_when_the_memory_estimate_does_not_fit(tmp_path: Path, tiny_model: Path) -> None:
    from tunesmith.pipeline.run import start_run_folder
    from tunesmith.prepare.stage import prepare
    from tunesmith.train.stage import train

    data = write_jsonl(tmp_path / "faq.jsonl", faq_records(40))
    path = tmp_path / "r.yaml"
    path.write_text(f"data: {{train: {data.name}, text_field: question, label_field: intent}}\n")
    recipe = recipe_io.load(path, [*fast_overrides(tiny_model), "training.batch_size=10000000"])
    start_run_folder(recipe, tmp_path / "big")
    prepare(recipe, tmp_path / "big")
    with pytest.raises(RecipeError, match=r"training needs ~\d+.*gradient_accumulation_steps"):
        train(tmp_path / "big")
    assert not (tmp_path / "big" / "model").exists()


def test_threshold_table_counts_flags_precision_and_recall() -> None:
    from tunesmith.tasks.binary_scores import threshold_table

    scores = [0.1, 0.4, 0.6, 0.8, 0.9]
    truth = [0, 1, 0, 1, 1]
    rows = {r["threshold"]: r for r in threshold_table(scores, truth, [0.5, 0.85, 0.05])}
    assert rows[0.5] == {
        "threshold": 0.5,
        "precision": 2 / 3,
        "recall": 2 / 3,
        "f1": pytest.approx(2 / 3),
        "flagged": 0.6,
    }
    assert rows[0.85]["precision"] == 1.0 and rows[0.85]["recall"] == 1 / 3
    assert rows[0.05]["recall"] == 1.0 and rows[0.05]["flagged"] == 1.0
    assert [r["threshold"] for r in threshold_table(scores, truth, [0.5, 0.05])] == [0.05, 0.5]

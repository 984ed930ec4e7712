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
from tunesmith.run import run
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

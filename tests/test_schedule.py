"""Freeze, then unfreeze; layer-wise learning-rate decay."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import fast_overrides
from helpers import faq_records, write_jsonl
from safetensors.torch import load_file
from transformers import AutoModelForSequenceClassification

from tunesmith import recipe as recipe_io
from tunesmith.pipeline.run import run
from tunesmith.train.freeze import encoder_layers, freeze
from tunesmith.train.schedule import mark_permanently_frozen, parameter_groups


def test_layerwise_decay_gives_lower_layers_smaller_steps(tiny_model: Path) -> None:
    recipe = recipe_io.validate(
        {"data": {"train": "x"}, "training": {"learning_rate": 1e-3, "layerwise_lr_decay": 0.5}}
    )
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model, num_labels=3)
    freeze(model, True, 0)  # word embeddings frozen for good: left out of the optimizer
    mark_permanently_frozen(model)
    lr_of = {id(p): g["lr"] for g in parameter_groups(model, recipe) for p in g["params"]}
    wd_of = {id(p): g["weight_decay"] for g in parameter_groups(model, recipe) for p in g["params"]}
    layers = encoder_layers(model)
    top, bottom = layers[-1], layers[0]
    assert {lr_of[id(p)] for p in top.parameters()} == {1e-3}
    assert [lr_of[id(p)] for p in bottom.parameters()] == pytest.approx(
        [1e-3 * 0.5 ** (len(layers) - 1)] * len(list(bottom.parameters()))
    )
    assert {lr_of[id(p)] for p in model.classifier.parameters()} == {1e-3}
    assert id(model.get_input_embeddings().weight) not in lr_of
    assert wd_of[id(model.classifier.bias)] == 0.0 and wd_of[id(model.classifier.weight)] > 0


def test_head_only_epochs_leave_the_encoder_untouched_until_it_unfreezes(
    tmp_path: Path, tiny_model: Path
) -> None:
    write_jsonl(tmp_path / "faq.jsonl", faq_records(160))
    (tmp_path / "r.yaml").write_text("data: {train: faq.jsonl, text_field: question, label_field: intent}\n")
    before = AutoModelForSequenceClassification.from_pretrained(tiny_model, num_labels=4).state_dict()
    results = {}
    for name, head_only in (("head", 2), ("then_all", 1)):
        sets = [
            *fast_overrides(tiny_model),
            "training.epochs=2",
            f"training.head_only_epochs={head_only}",
            "training.early_stopping_patience=null",
            "split.validation=0",  # no best-checkpoint reload: the last weights are saved
            "evaluation.baseline_gate=false",  # a head on a frozen random encoder learns little
        ]
        out = run(recipe_io.load(tmp_path / "r.yaml", sets), tmp_path / name)
        results[name] = load_file(out / "model" / "model.safetensors")
    layer = "bert.encoder.layer.0.attention.self.query.weight"
    assert torch.equal(results["head"][layer], before[layer])  # two head-only epochs: encoder as loaded
    assert not torch.equal(results["then_all"][layer], before[layer])  # unfrozen for the second epoch
    assert not torch.equal(results["head"]["classifier.weight"], results["then_all"]["classifier.weight"])

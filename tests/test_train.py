import json
from pathlib import Path

from conftest import fast_overrides
from helpers import faq_records, write_jsonl

from tunesmith import recipe as recipe_io
from tunesmith.pipeline.run import run


def _run(tmp_path: Path, tiny_model: Path, name: str, *extra: str) -> tuple[dict, list]:
    data = write_jsonl(tmp_path / "faq.jsonl", faq_records(160))
    path = tmp_path / "r.yaml"
    path.write_text(f"data: {{train: {data.name}, text_field: question, label_field: intent}}\n")
    recipe = recipe_io.load(path, [*fast_overrides(tiny_model), *extra])
    out = run(recipe, tmp_path / name)
    losses = [e["loss"] for e in json.loads((out / "training_log.json").read_text()) if "loss" in e]
    return json.loads((out / "metrics.json").read_text()), losses


def test_same_seed_gives_identical_metrics_and_another_seed_differs(tmp_path: Path, tiny_model: Path) -> None:
    first, first_losses = _run(tmp_path, tiny_model, "a")
    second, second_losses = _run(tmp_path, tiny_model, "b")
    assert first == second and first_losses == second_losses
    assert first["test"]["accuracy"] > 0.4  # well above chance (0.25): equality is not trivial
    other, other_losses = _run(tmp_path, tiny_model, "c", "seed=7")
    assert other_losses != first_losses and other != first


def test_weight_decay_spares_biases_and_layernorm(tiny_model: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForSequenceClassification, Trainer

    from tunesmith.train.arguments import training_arguments
    from tunesmith.train.auto import resolve

    recipe = recipe_io.validate({"data": {"train": "x"}})
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model, num_labels=3)
    recipe = recipe.model_copy(update={"training": resolve(recipe.training, model, 100, 1, False).training})
    trainer = Trainer(model=model, args=training_arguments(recipe, tmp_path, has_validation=False))
    optimizer = trainer.create_optimizer()
    names = {id(p): n for n, p in model.named_parameters()}
    decayed = [names[id(p)] for g in optimizer.param_groups if g["weight_decay"] > 0 for p in g["params"]]
    spared = [names[id(p)] for g in optimizer.param_groups if g["weight_decay"] == 0 for p in g["params"]]
    assert decayed and all("bias" not in n and "LayerNorm" not in n for n in decayed)
    assert any("LayerNorm" in n for n in spared) and any(n.endswith("bias") for n in spared)
    assert type(optimizer).__name__.startswith("AdamW")


def test_precision_never_picks_bf16_on_a_cpu_without_it() -> None:
    from tunesmith.train.precision import choose_precision, cpu_has_native_bf16

    assert choose_precision("auto") == "fp32"
    if not cpu_has_native_bf16():
        assert choose_precision("bf16") == "fp32"


def test_freezing_lower_layers_stops_their_gradients(tiny_model: Path) -> None:
    import pytest
    from transformers import AutoModelForSequenceClassification

    from tunesmith.errors import RecipeError
    from tunesmith.train.freeze import encoder_layers, freeze

    model = AutoModelForSequenceClassification.from_pretrained(tiny_model, num_labels=3)
    frozen = freeze(model, word_embeddings=True, lower_layers=1)
    layers = encoder_layers(model)
    assert layers is not None and len(layers) == 2
    assert not any(p.requires_grad for p in layers[0].parameters())
    assert all(p.requires_grad for p in layers[1].parameters())
    assert not model.get_input_embeddings().weight.requires_grad
    assert model.classifier.weight.requires_grad
    assert frozen == sum(p.numel() for p in model.parameters() if not p.requires_grad)
    with pytest.raises(RecipeError, match="leaves nothing to train"):
        freeze(model, word_embeddings=True, lower_layers=2)


def test_a_bi_encoder_freezes_like_any_encoder(tiny_model: Path) -> None:
    """A bi-encoder over a pretrained model trains with the default frozen word embeddings."""
    from transformers import AutoModel

    from tunesmith.tasks.bi_encoder import BiEncoder
    from tunesmith.train.freeze import encoder_layers, freeze

    model = BiEncoder(AutoModel.from_pretrained(tiny_model))
    assert freeze(model, word_embeddings=True, lower_layers=1) > 0
    layers = encoder_layers(model)
    assert layers is not None and not any(p.requires_grad for p in layers[0].parameters())
    assert not model.get_input_embeddings().weight.requires_grad
    assert all(p.requires_grad for p in layers[1].parameters())

"""Freeze parts of the pretrained encoder so CPU steps do less work.

Frozen word embeddings skip the embedding gradient and its optimizer state; frozen lower
layers also skip their backward pass, which is two thirds of a layer's training compute.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from tunesmith.errors import RecipeError


def encoder_layers(model: Any) -> nn.ModuleList | None:
    """The stack of transformer blocks (the ModuleList as long as config.num_hidden_layers)."""
    count = getattr(model.config, "num_hidden_layers", None)
    for module in model.base_model.modules():
        if isinstance(module, nn.ModuleList) and len(module) == count:
            return module
    return None


def unsaved_parameters(model: Any) -> list[nn.Parameter]:
    """Parameters the model's `save_pretrained` leaves out (Marian's sinusoidal positions: they are
    recomputed on load). Trained, they would change a model that the bundle then does not hold."""
    skipped = set(getattr(model, "_keys_to_ignore_on_save", None) or ())
    return [p for name, p in model.named_parameters() if name in skipped]


def freeze(model: Any, word_embeddings: bool, lower_layers: int) -> int:
    """Freeze what the recipe asks, and what the saved model would not keep; return how many
    parameters no longer train."""
    frozen: list[nn.Parameter] = unsaved_parameters(model)
    if word_embeddings or lower_layers:
        frozen.append(model.get_input_embeddings().weight)
    if lower_layers:
        layers = encoder_layers(model)
        if layers is None:
            raise RecipeError("model.freeze_layers: this architecture's layer stack was not found")
        if lower_layers >= len(layers):
            raise RecipeError(
                f"model.freeze_layers={lower_layers} leaves nothing to train: the model has "
                f"{len(layers)} layers"
            )
        embeddings = getattr(model.base_model, "embeddings", None)  # positions, types, norm
        if embeddings is not None:
            frozen += list(embeddings.parameters())
        for layer in layers[:lower_layers]:
            frozen += list(layer.parameters())
    unique = {id(p): p for p in frozen}
    for parameter in unique.values():
        parameter.requires_grad_(False)
    return sum(p.numel() for p in unique.values())

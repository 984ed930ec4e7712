"""Freeze, then unfreeze, and layer-wise learning-rate decay.

`training.head_only_epochs: N` trains the task head alone for N epochs (a fresh head's large
early gradients do not disturb the pretrained encoder), then the whole model. The optimizer is
built here with every parameter that will ever train, because the Trainer's own optimizer only
takes the parameters trainable at the start. `training.layerwise_lr_decay: d` gives the top
encoder layer the base learning rate, the next one d times that, and so on down to the embeddings.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import TrainerCallback

from tunesmith.console import console
from tunesmith.recipe import Recipe
from tunesmith.train.freeze import encoder_layers

_NO_DECAY = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight")


def encoder_parameters(model: Any) -> list[nn.Parameter]:
    """The pretrained encoder's parameters (everything but the task head)."""
    return list(model.base_model.parameters())


def parameter_groups(model: Any, recipe: Recipe) -> list[dict[str, Any]]:
    """AdamW groups: weight decay except on biases and norms, and with `layerwise_lr_decay` a
    learning rate per depth. Parameters frozen for good (`model.freeze_*`) are left out."""
    t = recipe.training
    decay = t.layerwise_lr_decay or 1.0
    layers = encoder_layers(model)
    depth_of: dict[int, int] = {}
    if layers is not None:
        count = len(layers)
        for index, layer in enumerate(layers):
            for parameter in layer.parameters():
                depth_of[id(parameter)] = count - 1 - index
        embeddings = getattr(model.base_model, "embeddings", None)
        for parameter in embeddings.parameters() if embeddings is not None else []:
            depth_of[id(parameter)] = count
    permanent = {id(p) for p in _permanently_frozen(model)}
    groups: dict[tuple[float, float], list[nn.Parameter]] = {}
    for name, parameter in model.named_parameters():
        if id(parameter) in permanent:
            continue
        lr = t.learning_rate * decay ** depth_of.get(id(parameter), 0)
        weight_decay = 0.0 if name.endswith(_NO_DECAY) else t.weight_decay
        groups.setdefault((lr, weight_decay), []).append(parameter)
    return [{"params": params, "lr": lr, "weight_decay": wd} for (lr, wd), params in groups.items()]


def _permanently_frozen(model: Any) -> list[nn.Parameter]:
    return [p for p in model.parameters() if getattr(p, "_tunesmith_frozen", False)]


def mark_permanently_frozen(model: Any) -> None:
    """Remember what `model.freeze_*` froze, so unfreezing the encoder leaves it frozen."""
    for parameter in model.parameters():
        if not parameter.requires_grad:
            parameter._tunesmith_frozen = True  # type: ignore[attr-defined]


def build_optimizer(model: Any, recipe: Recipe) -> torch.optim.Optimizer:
    return torch.optim.AdamW(parameter_groups(model, recipe), lr=recipe.training.learning_rate)


class UnfreezeEncoder(TrainerCallback):
    """Train the head alone for `epochs`, then every encoder parameter not frozen for good."""

    def __init__(self, model: Any, epochs: float) -> None:
        self.epochs = epochs
        self.parameters = [p for p in encoder_parameters(model) if not getattr(p, "_tunesmith_frozen", False)]
        self.unfrozen = False
        for parameter in self.parameters:
            parameter.requires_grad_(False)

    def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not self.unfrozen and (state.epoch or 0) >= self.epochs - 1e-9:
            for parameter in self.parameters:
                parameter.requires_grad_(True)
            self.unfrozen = True
            console.print(f"epoch {state.epoch:g}: the encoder trains from here on (head only until now)")

"""LoRA adapters through peft: low-rank updates on the encoder's linear layers, the task head
trained in full, and the adapters merged back on save, so a bundle is a plain model folder."""

from __future__ import annotations

from typing import Any

from tunesmith.console import console
from tunesmith.recipe import LoraSection


def wants_lora(options: LoraSection, parameters: int) -> bool:
    """`on`, or `auto` and the model is larger than `auto_above_parameters`."""
    return options.mode == "on" or (options.mode == "auto" and parameters > options.auto_above_parameters)


def apply_lora(model: Any, options: LoraSection) -> Any:
    """The model wrapped with LoRA adapters (only they and the head train)."""
    from peft import LoraConfig, TaskType, get_peft_model

    if getattr(model.config, "is_encoder_decoder", False):
        kind = TaskType.SEQ_2_SEQ_LM
    elif type(model).__name__.endswith("ForCausalLM"):
        kind = TaskType.CAUSAL_LM  # a chat model, or a decoder that translates
    else:
        kind = TaskType.SEQ_CLS  # an encoder with a task head (the head trains in full)
    config = LoraConfig(
        task_type=kind,
        r=options.r,
        lora_alpha=options.alpha,
        lora_dropout=options.dropout,
        target_modules=options.target_modules or "all-linear",
    )
    wrapped = get_peft_model(model, config)
    trainable = sum(p.numel() for p in wrapped.parameters() if p.requires_grad)
    console.print(f"LoRA r={options.r}: {trainable / 1e6:.2f}M trainable parameters (adapters and head)")
    return wrapped


def merged(model: Any) -> Any:
    """The plain model with the adapters folded into its weights (no-op without LoRA)."""
    return model.merge_and_unload() if hasattr(model, "merge_and_unload") else model

"""Peak training memory, estimated before the first step, and the memory the device has.

Weights + gradients + AdamW's two states for what trains + activations: per layer about
batch x length x hidden x (34 + 5 x heads x length / hidden) bytes at 16 bits (Korthikanti et
al. 2022), doubled for fp32; with gradient checkpointing only each layer's input is kept, plus one
layer's full activations during recomputation. + 10% for the framework.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

FRAMEWORK_OVERHEAD = 1.1


@dataclass(frozen=True)
class MemoryEstimate:
    weights: float
    gradients: float
    optimizer: float
    activations: float

    @property
    def total(self) -> float:
        return FRAMEWORK_OVERHEAD * (self.weights + self.gradients + self.optimizer + self.activations)

    def describe(self) -> str:
        parts = ("weights", "gradients", "optimizer", "activations")
        shown = ", ".join(f"{name} {getattr(self, name) / 1e9:.2f}" for name in parts)
        return f"~{self.total / 1e9:.2f} GB ({shown} GB)"


def estimate(
    parameters: int,
    trainable: int,
    hidden: int,
    heads: int,
    layers: int,
    batch: int,
    length: int,
    value_bytes: int = 4,
    checkpointing: bool = False,
) -> MemoryEstimate:
    """Peak bytes to fine-tune with AdamW (fp32 master weights and states; activations at
    `value_bytes` per value)."""
    per_layer = batch * length * hidden * (34 + 5 * heads * length / hidden) * value_bytes / 2
    if checkpointing:
        activations = layers * batch * length * hidden * value_bytes + per_layer
    else:
        activations = layers * per_layer
    return MemoryEstimate(
        weights=parameters * 4.0,
        gradients=trainable * 4.0,
        optimizer=trainable * 8.0,
        activations=activations,
    )


def estimate_for(
    model: Any, batch: int, length: int, value_bytes: int, checkpointing: bool
) -> MemoryEstimate:
    """`estimate` for a loaded model, reading its shape from the config."""
    config = model.config
    config = getattr(config, "encoder", config)  # encoder-decoder: the encoder's shape
    hidden = getattr(config, "hidden_size", None) or getattr(config, "d_model", 256)
    heads = getattr(config, "num_attention_heads", None) or getattr(config, "num_heads", 4)
    layers = getattr(config, "num_hidden_layers", None) or getattr(config, "num_layers", 6)
    return estimate(
        sum(p.numel() for p in model.parameters()),
        sum(p.numel() for p in model.parameters() if p.requires_grad),
        hidden,
        heads,
        layers,
        batch,
        length,
        value_bytes,
        checkpointing,
    )


def available_bytes() -> tuple[float, str]:
    """(bytes free for training, where): the GPU's free memory, else the machine's available RAM."""
    import torch

    if torch.cuda.is_available():
        free, _total = torch.cuda.mem_get_info()
        return float(free), torch.cuda.get_device_name()
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024, "RAM"
    except OSError:
        pass
    import os

    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")), "RAM"


def advice(options: Any, lora: bool) -> str:
    tips = [
        f"lower training.batch_size (now {options.batch_size}) and raise training.gradient_accumulation_steps"
    ]
    if not options.gradient_checkpointing:
        tips.append("set training.gradient_checkpointing: true")
    if not lora:
        tips.append("train LoRA adapters (model.lora)")
    tips.append("lower model.max_length, or choose a smaller model (`tunesmith recommend`)")
    return "; ".join(tips)

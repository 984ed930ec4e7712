"""What the two generating tasks (seq2seq, causal_lm) share: batched generation and the scores of
generated text against references.

BLEU and chrF come from sacrebleu (its `zh` tokenizer when the references are Chinese); ROUGE-L
from rouge-score with a tokenizer that makes every Chinese character a token (its own drops
non-Latin text).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tunesmith.console import progress
from tunesmith.data.language import detect_language
from tunesmith.evaluate.plots import histogram, save_figure
from tunesmith.tasks.base import Runtime, TextLabelDefaults

_CJK = "\u3400-\u9fff\uf900-\ufaff"
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")
_TOKEN = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")


def tidy_generated(text: str) -> str:
    """WordPiece decoders put a space between Chinese characters: remove it."""
    return _CJK_GAP.sub("", text).strip()


class CharacterTokenizer:
    """For rouge-score: Chinese characters one by one, other text by words, lower case."""

    def tokenize(self, text: str) -> list[str]:
        return _TOKEN.findall(text.lower())


def generation_metrics(predictions: Sequence[str], references: Sequence[str]) -> dict[str, Any]:
    import sacrebleu
    from rouge_score import rouge_scorer

    language = detect_language(list(references)[:2000]) if references else "en"
    tokenize = "zh" if language == "zh" else "13a"
    bleu = sacrebleu.corpus_bleu(list(predictions), [list(references)], tokenize=tokenize)
    chrf = sacrebleu.corpus_chrf(list(predictions), [list(references)])
    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=CharacterTokenizer())
    rouge = [scorer.score(r, p)["rougeL"].fmeasure for p, r in zip(predictions, references, strict=True)]
    return {
        "bleu": float(bleu.score),
        "chrf": float(chrf.score),
        "rouge_l": float(np.mean(rouge)) if rouge else 0.0,
        "bleu_tokenizer": tokenize,
        "rouge_l_per_example": rouge,
    }


def evaluate_generated(
    records: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]], out_dir: Path, split: str
) -> dict[str, Any]:
    metrics = generation_metrics([a["text"] for a in answers], [r["label"] for r in records])
    per_example = metrics.pop("rouge_l_per_example")
    if per_example:
        figure = histogram(per_example, f"ROUGE-L per example ({split}, n={len(per_example)})", "ROUGE-L")
        save_figure(figure, out_dir / f"rouge_l_{split}.png")
    metrics["count"] = len(records)
    metrics["examples"] = [
        {"input": r["text"], "reference": r["label"], "generated": a["text"]}
        for r, a in list(zip(records, answers, strict=True))[:5]
    ]
    return metrics


@torch.inference_mode()
def generate(
    runtime: Runtime,
    prompts: Sequence[Any],
    batch_size: int,
    show: bool,
    encode: Any,
    new_tokens_only: bool,
) -> list[str]:
    """Generated text per prompt, in input order. `encode(tokenizer, prompts)` makes the batch;
    `new_tokens_only`: a decoder-only model echoes its prompt, which is cut off."""
    options = runtime.recipe.task
    out: list[str] = []
    with progress(show=show) as bar:
        job = bar.add_task("generating", total=len(prompts))
        for start in range(0, len(prompts), batch_size):
            chunk = prompts[start : start + batch_size]
            batch = encode(runtime.tokenizer, chunk)
            with runtime.locked():
                generated = runtime.model.generate(
                    **batch,
                    max_new_tokens=options.max_new_tokens,
                    num_beams=options.num_beams,
                    do_sample=False,
                )
            if new_tokens_only:
                generated = generated[:, batch["input_ids"].shape[1] :]
            texts = runtime.tokenizer.batch_decode(generated, skip_special_tokens=True)
            out.extend(tidy_generated(t) for t in texts)
            bar.advance(job, len(chunk))
    return out


class TextTargetTask(TextLabelDefaults):
    """A task whose label is the text to produce (a translation, a summary, an answer)."""

    headline = ("bleu", "chrf", "rouge_l")

    def collator(self, tokenizer: Any) -> Any:
        from transformers import DataCollatorForSeq2Seq

        return DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100)

    def decode(
        self,
        outputs: Any,
        examples: Sequence[dict[str, Any]],
        labels: list[str],
        state: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        return [{"text": text} for text in outputs]

    def evaluate(
        self,
        records: Sequence[dict[str, Any]],
        answers: Sequence[dict[str, Any]],
        labels: list[str],
        out_dir: Path,
        split: str,
    ) -> dict[str, Any]:
        return evaluate_generated(records, answers, out_dir, split)

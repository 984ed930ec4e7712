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

from tunesmith.console import progress
from tunesmith.data.language import detect_language
from tunesmith.metrics.plots import histogram, save_figure
from tunesmith.metrics.uncertainty import SubsetMetric, mean_over
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


def corpus_metrics(references: Sequence[str]) -> dict[str, Any]:
    """sacrebleu's BLEU (its `zh` tokenizer for Chinese references) and chrF, as metric objects."""
    from sacrebleu.metrics import BLEU, CHRF

    language = detect_language(list(references)[:2000]) if references else "en"
    return {"bleu": BLEU(tokenize="zh" if language == "zh" else "13a"), "chrf": CHRF()}


def rouge_l_per_example(predictions: Sequence[str], references: Sequence[str]) -> list[float]:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=CharacterTokenizer())
    return [scorer.score(r, p)["rougeL"].fmeasure for p, r in zip(predictions, references, strict=True)]


def generation_metrics(predictions: Sequence[str], references: Sequence[str]) -> dict[str, Any]:
    metrics = corpus_metrics(references)
    hypotheses, refs = list(predictions), [list(references)]
    rouge = rouge_l_per_example(predictions, references)
    return {
        "bleu": float(metrics["bleu"].corpus_score(hypotheses, refs).score),
        "chrf": float(metrics["chrf"].corpus_score(hypotheses, refs).score),
        "rouge_l": float(np.mean(rouge)) if rouge else 0.0,
        "bleu_tokenizer": metrics["bleu"].tokenizer_signature,
        "rouge_l_per_example": rouge,
    }


def generation_subset_metrics(
    predictions: Sequence[str], references: Sequence[str]
) -> dict[str, SubsetMetric]:
    """BLEU and chrF of a subset from per-sentence sufficient statistics (n-gram counts), summed and
    scored as sacrebleu's own bootstrap does; ROUGE-L as the mean per sentence."""
    found: dict[str, SubsetMetric] = {}
    for name, metric in corpus_metrics(references).items():
        # sacrebleu has no public per-sentence statistics API; its significance module uses these two
        stats = np.asarray(metric._extract_corpus_statistics(list(predictions), [list(references)]))
        found[name] = lambda rows, m=metric, s=stats: float(m._compute_score_from_stats(s[rows].sum(0)).score)
    found["rouge_l"] = mean_over(rouge_l_per_example(predictions, references))
    return found


def sacrebleu_paired_p(
    references: Sequence[str], generated_a: Sequence[str], generated_b: Sequence[str]
) -> dict[str, float]:
    """{bleu, chrf: p-value} of B against A from sacrebleu's paired bootstrap test (1,000
    resamples, its fixed seed), the test machine translation papers report."""
    from sacrebleu.significance import PairedTest

    metrics = corpus_metrics(references)
    if list(generated_a) == list(generated_b):
        # sacrebleu's statistic is |difference| minus its resampled mean: with no difference at all
        # every resample ties, and it reports its smallest p instead of 1
        return dict.fromkeys(metrics, 1.0)
    test = PairedTest(
        [("A", list(generated_a)), ("B", list(generated_b))],
        metrics,
        [list(references)],
        test_type="bs",
        n_samples=1000,
    )
    _, scores = test()
    # its results are keyed by each metric's display name (BLEU, chrF2), in the order given
    names = [key for key in scores if key != "System"]
    return {ours: float(scores[theirs][1].p_value) for ours, theirs in zip(metrics, names, strict=True)}


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


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """`text` up to the first stop string, and whether one was found."""
    cuts = [text.index(stop) for stop in stops if stop in text]
    return (text[: min(cuts)], True) if cuts else (text, False)


def generate(
    runtime: Runtime, examples: Sequence[dict[str, Any]], batch_size: int, show: bool, task: TextTargetTask
) -> list[str]:
    """Generated text per example, in input order, greedy or by beam search (`task.num_beams`);
    a model that continues its prompt has the prompt cut off, and the text ends at a stop string."""
    import torch

    with torch.inference_mode():
        return _generate(runtime, examples, batch_size, show, task)


def _generate(
    runtime: Runtime, examples: Sequence[dict[str, Any]], batch_size: int, show: bool, task: TextTargetTask
) -> list[str]:
    options = runtime.recipe.task
    stops = task.stop_strings(runtime)
    continues = task.continues_prompt(runtime.model)
    out: list[str] = []
    with progress(show=show) as bar:
        job = bar.add_task("generating", total=len(examples))
        for start in range(0, len(examples), batch_size):
            chunk = examples[start : start + batch_size]
            batch = task.generation_batch(runtime, chunk)
            with runtime.locked():
                generated = runtime.model.generate(
                    **batch,
                    max_new_tokens=options.max_new_tokens,
                    num_beams=options.num_beams,
                    do_sample=False,
                    **({"stop_strings": list(stops), "tokenizer": runtime.tokenizer} if stops else {}),
                )
            if continues:
                generated = generated[:, batch["input_ids"].shape[1] :]
            texts = runtime.tokenizer.batch_decode(generated, skip_special_tokens=True)
            out.extend(tidy_generated(cut_at_stop(t, stops)[0]) for t in texts)
            bar.advance(job, len(chunk))
    return out


class TextTargetTask(TextLabelDefaults):
    """A task whose label is the text to produce (a translation, a summary, an answer). A task
    says how examples become a generation batch; generating, streaming, scoring and the loss on
    the target tokens are shared here."""

    headline = ("bleu", "chrf", "rouge_l")
    step_budget, max_epochs = 300, 5  # a pretrained generator adapts in a few passes (train/auto.py)

    def generation_batch(self, runtime: Runtime, examples: Sequence[dict[str, Any]]) -> Any:
        """The tokenized inputs `model.generate` continues from (a decoder's prompts, or the
        encoder's texts)."""
        raise NotImplementedError

    def continues_prompt(self, model: Any) -> bool:
        """A decoder-only model writes after its prompt (cut off the output); an encoder-decoder
        writes the target alone."""
        return not getattr(model.config, "is_encoder_decoder", False)

    def stop_strings(self, runtime: Runtime) -> tuple[str, ...]:
        """Where generated text ends besides the end-of-text token (none by default)."""
        return ()

    def training_loss(self, model: Any) -> Any:
        """The loss the Trainer uses instead of the model's own (None: the model's): a decoder
        learns its targets with the output layer run on the target positions only."""
        from tunesmith.tasks.prompted import target_only_loss

        return target_only_loss if self.continues_prompt(model) else None

    def outputs(
        self, runtime: Runtime, examples: Sequence[dict[str, Any]], batch_size: int, show: bool
    ) -> list[str]:
        return generate(runtime, list(examples), batch_size, show, self)

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

    def subset_metrics(
        self, records: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]], labels: list[str]
    ) -> dict[str, SubsetMetric]:
        return generation_subset_metrics([a["text"] for a in answers], [r["label"] for r in records])

    def trivial_answers(
        self, train_labels: Sequence[Any], records: Sequence[dict[str, Any]], labels: list[str]
    ) -> tuple[str, list[dict[str, Any]]] | None:
        return "the input, copied", [{"text": r["text"]} for r in records]

"""Extractive question answering: the answer is a span of the context (`data.pair_field`).

A context longer than `model.max_length` is cut into overlapping windows (`task.doc_stride`
tokens of overlap); training labels each window with the answer's token span, or with the
first token when the answer is not inside it; answering takes the best span over all windows.
The answer of a record is text: it is cleaned and de-identified like the context and located in
it (a record whose answer is not in its context is quarantined). Metrics are SQuAD's exact match
and token F1, with every Chinese character a token.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from transformers import AutoModelForQuestionAnswering, PreTrainedTokenizerBase

from tunesmith.console import progress
from tunesmith.metrics.plots import histogram, save_figure
from tunesmith.metrics.uncertainty import SubsetMetric, mean_over
from tunesmith.tasks.base import Runtime, TextLabelDefaults

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_CJK = re.compile(r"([\u3400-\u9fff\uf900-\ufaff])")
_PUNCTUATION = set(string.punctuation) | {c for c in "，。！？、；：“”‘’（）《》【】…—·「」"}
CANDIDATES = 20  # best start and end tokens considered per window


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation (lower case, no punctuation or English articles, single spaces),
    with full-width forms folded."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(c for c in text if c not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def answer_tokens(text: str) -> list[str]:
    """Words of the normalised answer; each Chinese character is a word of its own."""
    return _CJK.sub(r" \1 ", normalize_answer(text)).split()


def exact_match(prediction: str, truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(truth))


def token_f1(prediction: str, truth: str) -> float:
    predicted, expected = answer_tokens(prediction), answer_tokens(truth)
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


class ExtractiveQATask(TextLabelDefaults):
    type = "extractive_qa"
    inputs = ("text", "text_pair")
    pair_required = True  # the context: there is no answer without it
    headline = ("exact_match", "f1")

    def check_example(self, record: dict[str, Any]) -> None:
        if record["label"] not in record["text_pair"]:
            raise ValueError("the answer is not in the context (after cleaning and de-identification)")

    def build_model(self, model_dir: Path, labels: list[str], trust_remote_code: bool) -> Any:
        return AutoModelForQuestionAnswering.from_pretrained(model_dir, trust_remote_code=trust_remote_code)

    graph_outputs = ("start_logits", "end_logits")

    def load_model(self, model_dir: Path, trust_remote_code: bool) -> Any:
        return self.build_model(model_dir, [], trust_remote_code).eval()

    def _windows(
        self, tokenizer: PreTrainedTokenizerBase, questions: list[str], contexts: list[str], max_length: int
    ) -> Any:
        return tokenizer(
            questions,
            contexts,
            truncation="only_second",
            max_length=max_length,
            stride=min(self.options.doc_stride, max_length // 4),
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )

    def encode(
        self,
        batch: dict[str, list[Any]],
        tokenizer: PreTrainedTokenizerBase,
        max_length: int,
        labels: list[str],
    ) -> dict[str, Any]:
        encoded = self._windows(tokenizer, batch["text"], batch["text_pair"], max_length)
        samples = encoded.pop("overflow_to_sample_mapping")
        starts, ends = [], []
        for window, offsets in enumerate(encoded["offset_mapping"]):
            context, answer = batch["text_pair"][samples[window]], batch["label"][samples[window]]
            first = context.find(answer)
            last = first + len(answer)
            in_context = [i for i, s in enumerate(encoded.sequence_ids(window)) if s == 1]
            begin, end = in_context[0], in_context[-1]
            if first < 0 or offsets[begin][0] > first or offsets[end][1] < last:
                starts.append(0)  # not in this window: point at the first token, as SQuAD 2 does
                ends.append(0)
                continue
            start_token = next(i for i in in_context if offsets[i][1] > first)
            end_token = max(i for i in in_context if offsets[i][0] < last)
            starts.append(start_token)
            ends.append(end_token)
        encoded.pop("offset_mapping")
        out = dict(encoded)
        out["start_positions"], out["end_positions"] = starts, ends
        return out

    def outputs(
        self, runtime: Runtime, examples: Sequence[dict[str, Any]], batch_size: int, show: bool
    ) -> list[dict[str, Any]]:
        """The best span of each example's context over all its windows."""
        best: list[dict[str, Any]] = [{"answer": "", "start": 0, "end": 0, "score": 0.0} for _ in examples]
        best_logit = [-np.inf] * len(examples)
        with progress(show=show) as bar:
            job = bar.add_task("answering", total=len(examples))
            for begin in range(0, len(examples), batch_size):
                chunk = list(examples[begin : begin + batch_size])
                encoded = self._windows(
                    runtime.tokenizer,
                    [e["text"] for e in chunk],
                    [e["text_pair"] for e in chunk],
                    runtime.recipe.model.max_length,
                )
                samples = encoded.pop("overflow_to_sample_mapping")
                offsets = encoded.pop("offset_mapping")
                tensors = runtime.tokenizer.pad(dict(encoded), return_tensors="pt")
                result = runtime.infer(tensors)
                start_logits, end_logits = result["start_logits"], result["end_logits"]
                for window, sample in enumerate(samples):
                    position = begin + sample
                    span = self._best_span(
                        encoded.sequence_ids(window),
                        offsets[window],
                        start_logits[window],
                        end_logits[window],
                    )
                    if span is not None and span[2] > best_logit[position]:
                        context = examples[position]["text_pair"]
                        first, last, logit, score = span
                        best_logit[position] = logit
                        best[position] = {
                            "answer": context[first:last],
                            "start": first,
                            "end": last,
                            "score": score,
                        }
                bar.advance(job, len(chunk))
        return best

    def _best_span(
        self,
        sequence_ids: list[int | None],
        offsets: list[tuple[int, int]],
        starts: np.ndarray,
        ends: np.ndarray,
    ) -> tuple[int, int, float, float] | None:
        """(first char, last char, start+end logit, probability) of the best valid span, or None."""
        in_context = np.array([s == 1 for s in sequence_ids] + [False] * (len(starts) - len(sequence_ids)))
        if not in_context.any():
            return None
        start_p = _softmax(np.where(in_context, starts, -np.inf))
        end_p = _softmax(np.where(in_context, ends, -np.inf))
        found = None
        for i in np.argsort(-starts)[:CANDIDATES]:
            if not in_context[i]:
                continue
            for j in np.argsort(-ends)[:CANDIDATES]:
                if not in_context[j] or j < i or j - i + 1 > self.options.max_answer_tokens:
                    continue
                logit = float(starts[i] + ends[j])
                if found is None or logit > found[2]:
                    found = (int(offsets[i][0]), int(offsets[j][1]), logit, float(start_p[i] * end_p[j]))
        return found

    def decode(
        self,
        outputs: Any,
        examples: Sequence[dict[str, Any]],
        labels: list[str],
        state: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        return [dict(output) for output in outputs]

    def subset_metrics(
        self, records: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]], labels: list[str]
    ) -> dict[str, SubsetMetric]:
        matches, f1s = _answer_scores(records, answers)
        return {"exact_match": mean_over(matches), "f1": mean_over(f1s)}

    def trivial_answers(
        self, train_labels: Sequence[Any], records: Sequence[dict[str, Any]], labels: list[str]
    ) -> tuple[str, list[dict[str, Any]]] | None:
        """The context's first characters, as many as the median training answer has."""
        if not train_labels:
            return None
        size = int(np.median([len(str(answer)) for answer in train_labels]))
        answers = []
        for record in records:
            context = record["text_pair"]
            answers.append(
                {"answer": context[:size], "start": 0, "end": min(size, len(context)), "score": 0.0}
            )
        return f"the context's first {size} characters", answers

    def evaluate(
        self,
        records: Sequence[dict[str, Any]],
        answers: Sequence[dict[str, Any]],
        labels: list[str],
        out_dir: Path,
        split: str,
    ) -> dict[str, Any]:
        matches, f1s = _answer_scores(records, answers)
        if records:
            figure = histogram(f1s, f"answer F1 per question ({split}, n={len(f1s)})", "token F1")
            save_figure(figure, out_dir / f"answer_f1_{split}.png")
        return {
            "exact_match": float(np.mean(matches)) if matches else 0.0,
            "f1": float(np.mean(f1s)) if f1s else 0.0,
            "count": len(records),
        }


def _answer_scores(
    records: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]]
) -> tuple[list[float], list[float]]:
    """(exact match, token F1) per question."""
    pairs = list(zip(records, answers, strict=True))
    return (
        [float(exact_match(a["answer"], r["label"])) for r, a in pairs],
        [token_f1(a["answer"], r["label"]) for r, a in pairs],
    )


def _softmax(values: np.ndarray) -> np.ndarray:
    finite = values[np.isfinite(values)]
    shifted = np.exp(values - (finite.max() if finite.size else 0.0))
    return shifted / shifted.sum()

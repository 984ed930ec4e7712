"""Token classification (NER): entities as character spans over the text, BIO tags per sub-word.

Three input formats are read into one form, the text plus `[start, end, type]` spans:
- spans: a text and a list of `{start, end, label}` (or `[start, end, label]`) over it;
- bio: a list of tokens and a list of tags (`B-PER`, `I-PER`, `O`; IOB1 and bare `PER` too);
- word_tag: one string `word/tag word/tag ...` (the MSRA format, `o` for outside).
Each piece is cleaned on its own and the whole text is de-identified; spans move with every edit,
so an entity that was a phone number ends up covering `[PHONE]`. Metrics are seqeval's
entity-level (exact span and type) precision, recall and F1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from seqeval.scheme import IOB2, Entities
from transformers import (
    AutoModelForTokenClassification,
    DataCollatorForTokenClassification,
    EvalPrediction,
    PreTrainedTokenizerBase,
)

from tunesmith.console import progress
from tunesmith.metrics.plots import bar_chart, save_figure
from tunesmith.metrics.uncertainty import SubsetMetric, micro_f1_over
from tunesmith.tasks.base import Clean, Redact, Runtime, TaskDefaults
from tunesmith.tasks.entity_spans import (
    NONE,
    OUTSIDE,
    Span,
    bio_names,
    char_tags,
    entities_from_tokens,
    join_pieces,
    move_spans,
    pieces_from_bio,
    pieces_from_spans,
    pieces_from_word_tags,
    span_types,
)
from tunesmith.tasks.sequence_head import length_order, logits_of


class TokenClassificationTask(TaskDefaults):
    type = "token_classification"
    annotated = True
    best_metric = "f1"
    headline = ("f1", "precision", "recall")

    def read_annotated(
        self, text_value: Any, label_value: Any, clean: Clean, redact: Redact
    ) -> tuple[str, list[Span]]:
        form = self.options.ner_format
        if form == "auto":
            if isinstance(text_value, list):
                form = "bio"
            elif label_value is None:
                form = "word_tag"
            else:
                form = "spans"
        if form == "word_tag":
            if not isinstance(text_value, str):
                raise ValueError("word_tag input is one string 'word/tag word/tag ...'")
            text, spans = join_pieces(pieces_from_word_tags(text_value), clean, spaced=False)
        elif form == "bio":
            if not isinstance(text_value, list) or not isinstance(label_value, list):
                raise ValueError("bio input is a list of tokens and a list of tags")
            text, spans = join_pieces(pieces_from_bio(text_value, label_value), clean, spaced=False)
        else:
            if not isinstance(text_value, str) or not isinstance(label_value, list):
                raise ValueError("spans input is a text and a list of spans")
            text, spans = join_pieces(pieces_from_spans(text_value, label_value), clean, spaced=True)
        text, edits = redact(text)
        return text, move_spans(spans, edits)

    def parse_label(self, value: Any) -> list[Span]:
        return list(value)

    def label_space(self, labels: Sequence[Any]) -> list[str]:
        return bio_names([t for label in labels for t in span_types(label)])

    def stratify_key(self, label: Any) -> str:
        counts = Counter(span_types(label))
        return counts.most_common(1)[0][0] if counts else NONE

    def count_keys(self, label: Any) -> list[str]:
        return span_types(label) or [NONE]

    def build_model(self, model_dir: Path, labels: list[str], trust_remote_code: bool) -> Any:
        return AutoModelForTokenClassification.from_pretrained(
            model_dir,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
            trust_remote_code=trust_remote_code,
        )

    def load_model(self, model_dir: Path, trust_remote_code: bool) -> Any:
        return AutoModelForTokenClassification.from_pretrained(
            model_dir, trust_remote_code=trust_remote_code
        ).eval()

    def collator(self, tokenizer: PreTrainedTokenizerBase) -> Any:
        return DataCollatorForTokenClassification(tokenizer)

    def _windows(self, tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int) -> Any:
        """Token windows over each text: a text longer than `max_length` tokens is cut into
        windows overlapping by `task.doc_stride` tokens, so no entity is lost to truncation."""
        return tokenizer(
            texts,
            truncation=True,
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
        """Label each sub-word by the entity its first character falls in: B on the entity's first
        sub-word, I after; special tokens get -100 (ignored by the loss)."""
        index = {name: i for i, name in enumerate(labels)}
        encoded = self._windows(tokenizer, batch["text"], max_length)
        samples = encoded.pop("overflow_to_sample_mapping")
        all_labels = []
        for window, offsets in enumerate(encoded["offset_mapping"]):
            text, spans = batch["text"][samples[window]], batch["label"][samples[window]]
            row, previous = [], None
            for start, end in offsets:
                if end <= start:
                    row.append(-100)
                    continue
                entity = _entity_at(spans, _first_visible(text, start, end))
                if entity is None:
                    tag = OUTSIDE
                else:
                    tag = ("I-" if entity == previous else "B-") + str(spans[entity][2])
                previous = entity
                row.append(index.get(tag, 0))
            all_labels.append(row)
        encoded["labels"] = all_labels
        encoded.pop("offset_mapping")
        return dict(encoded)

    def outputs(
        self, runtime: Runtime, examples: Sequence[dict[str, Any]], batch_size: int, show: bool
    ) -> list[tuple[list[tuple[int, int]], np.ndarray]]:
        """Per example: the token offsets and the tag probabilities per token. Where windows
        overlap, a token's prediction comes from the window it sits most centrally in."""
        order = length_order(examples)
        out: list[Any] = [None] * len(examples)
        with progress(show=show) as bar:
            job = bar.add_task("predicting", total=len(examples))
            for begin in range(0, len(order), batch_size):
                chunk = order[begin : begin + batch_size]
                encoded = self._windows(
                    runtime.tokenizer, [examples[i]["text"] for i in chunk], runtime.recipe.model.max_length
                )
                samples = encoded.pop("overflow_to_sample_mapping")
                offsets = encoded.pop("offset_mapping")
                best: dict[int, dict[tuple[int, int], tuple[int, np.ndarray]]] = {i: {} for i in chunk}
                for first in range(0, len(samples), batch_size):
                    windows = list(range(first, min(first + batch_size, len(samples))))
                    tensors = runtime.tokenizer.pad(
                        {k: [encoded[k][w] for w in windows] for k in encoded}, return_tensors="pt"
                    )
                    logits = torch.from_numpy(runtime.infer(tensors)["logits"])
                    probabilities = torch.softmax(logits, dim=-1).numpy()
                    for row, window in enumerate(windows):
                        tokens = best[chunk[samples[window]]]
                        spans = offsets[window]
                        for position, (start, end) in enumerate(spans):
                            if end <= start:
                                continue
                            margin = min(position, len(spans) - 1 - position)
                            if (start, end) not in tokens or margin > tokens[(start, end)][0]:
                                tokens[(start, end)] = (margin, probabilities[row, position])
                for i in chunk:
                    kept = sorted(best[i])
                    rows = np.stack([best[i][k][1] for k in kept]) if kept else np.zeros((0, 1))
                    out[i] = (kept, rows)
                bar.advance(job, len(chunk))
        return out

    def decode(
        self,
        outputs: Any,
        examples: Sequence[dict[str, Any]],
        labels: list[str],
        state: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        answers = []
        for (offsets, probabilities), example in zip(outputs, examples, strict=True):
            text = example["text"]
            best = probabilities.argmax(axis=-1)
            tags = [labels[j] for j in best]
            scores = probabilities[np.arange(len(best)), best]
            visible = [(_first_visible(text, s, e), e) if e > s else (s, e) for s, e in offsets]
            answers.append({"entities": entities_from_tokens(text, visible, tags, scores.tolist())})
        return answers

    def trainer_metrics(self, labels: list[str]) -> Callable[[EvalPrediction], dict[str, float]]:
        def compute(prediction: EvalPrediction) -> dict[str, float]:
            predicted = logits_of(prediction).argmax(axis=-1)
            truth_rows, predicted_rows = [], []
            for truth, guess in zip(prediction.label_ids, predicted, strict=True):
                keep = truth != -100
                truth_rows.append([labels[t] for t in truth[keep]])
                predicted_rows.append(_repair([labels[g] for g in guess[keep]]))
            return _scores(truth_rows, predicted_rows)

        return compute

    def trivial_answers(
        self, train_labels: Sequence[Any], records: Sequence[dict[str, Any]], labels: list[str]
    ) -> tuple[str, list[dict[str, Any]]] | None:
        return "no entities", [{"entities": []} for _ in records]

    def subset_metrics(
        self, records: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]], labels: list[str]
    ) -> dict[str, SubsetMetric]:
        """Entity-level micro scores from per-text counts of exact (strict IOB2) entity matches:
        summing counts is what seqeval does over a whole split, without re-parsing every resample."""
        truth, predicted = _tag_rows(records, answers)
        true_sets = [{e.to_tuple()[1:] for e in row} for row in Entities(truth, IOB2).entities]
        predicted_sets = [{e.to_tuple()[1:] for e in row} for row in Entities(predicted, IOB2).entities]
        return micro_f1_over(
            [len(t & p) for t, p in zip(true_sets, predicted_sets, strict=True)],
            [len(p) for p in predicted_sets],
            [len(t) for t in true_sets],
        )

    def evaluate(
        self,
        records: Sequence[dict[str, Any]],
        answers: Sequence[dict[str, Any]],
        labels: list[str],
        out_dir: Path,
        split: str,
    ) -> dict[str, Any]:
        truth, predicted = _tag_rows(records, answers)
        metrics: dict[str, Any] = _scores(truth, predicted)
        metrics["count"] = len(records)
        metrics["entities"] = sum(len(r["label"]) for r in records)
        report = classification_report(
            truth, predicted, mode="strict", scheme=IOB2, output_dict=True, zero_division=0
        )
        per_type = {
            kind: {
                "precision": v["precision"],
                "recall": v["recall"],
                "f1": v["f1-score"],
                "support": int(v["support"]),
            }
            for kind, v in report.items()
            if not kind.endswith("avg")
        }
        metrics["per_type"] = per_type
        if per_type:
            figure = bar_chart(
                {k: v["f1"] for k, v in per_type.items()}, f"entity F1 per type ({split})", "F1"
            )
            save_figure(figure, out_dir / f"f1_per_type_{split}.png")
        return metrics


def _tag_rows(
    records: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]]
) -> tuple[list[list[str]], list[list[str]]]:
    """Per-character BIO tags of the true and of the predicted entities, one row per text."""
    truth = [char_tags(len(r["text"]), r["label"]) for r in records]
    predicted = [
        char_tags(len(r["text"]), [[e["start"], e["end"], e["label"]] for e in a["entities"]])
        for r, a in zip(records, answers, strict=True)
    ]
    return truth, predicted


def _scores(truth: list[list[str]], predicted: list[list[str]]) -> dict[str, float]:
    kwargs: dict[str, Any] = {"mode": "strict", "scheme": IOB2, "zero_division": 0}
    return {
        "f1": float(f1_score(truth, predicted, **kwargs)),
        "precision": float(precision_score(truth, predicted, **kwargs)),
        "recall": float(recall_score(truth, predicted, **kwargs)),
    }


def _repair(tags: list[str]) -> list[str]:
    """An I- tag that does not continue an entity of its type starts one (strict IOB2 would drop it)."""
    out = []
    for tag in tags:
        if tag.startswith("I-") and (not out or out[-1][2:] != tag[2:]):
            tag = "B-" + tag[2:]
        out.append(tag)
    return out


def _first_visible(text: str, start: int, end: int) -> int:
    """Some tokenizers' offsets include the space before a word; skip it."""
    while start < end - 1 and start < len(text) and text[start].isspace():
        start += 1
    return min(start, max(len(text) - 1, 0))


def _entity_at(spans: Sequence[Span], position: int) -> int | None:
    for number, (start, end, _) in enumerate(spans):
        if start <= position < end:
            return number
    return None

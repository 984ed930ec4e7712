"""What the sequence-level tasks (classification, multilabel, regression, cross-encoder matching,
tabular) share: one `AutoModelForSequenceClassification` head over the encoder, tokenized text
(or text pairs), logits out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tunesmith.console import progress
from tunesmith.tasks.base import Runtime, TaskDefaults

if TYPE_CHECKING:  # loaded where a model is built or trained, not where an export answers
    from transformers import EvalPrediction, PreTrainedModel, PreTrainedTokenizerBase


def build_head(
    model_dir: Path, labels: list[str], problem_type: str, trust_remote_code: bool
) -> PreTrainedModel:
    """The pretrained encoder with a fresh head of one output per name in `labels`."""
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification.from_pretrained(
        model_dir,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        problem_type=problem_type,
        trust_remote_code=trust_remote_code,
    )


def tokenize(
    batch: dict[str, list[Any]], tokenizer: PreTrainedTokenizerBase, max_length: int
) -> dict[str, Any]:
    """Token ids of the batch's texts (and second texts), cut at `max_length` (the collator pads)."""
    pairs = batch.get("text_pair")
    return dict(tokenizer(batch["text"], pairs, truncation=True, max_length=max_length))


def logits_of(prediction: EvalPrediction) -> np.ndarray:
    """The logits of a Trainer evaluation (some models return a tuple with extra outputs)."""
    logits = prediction.predictions
    return np.asarray(logits[0] if isinstance(logits, tuple) else logits)


def length_order(examples: Sequence[dict[str, Any]]) -> list[int]:
    """Example positions, shortest first, so a batch pads little."""
    return sorted(range(len(examples)), key=lambda i: sum(len(str(v)) for v in examples[i].values()))


def token_logits(
    tokenizer: Any,
    infer: Any,
    examples: Sequence[dict[str, Any]],
    max_length: int,
    batch_size: int,
    width: int,
    show: bool = False,
) -> np.ndarray:
    """Logits in input order of a token graph (`infer`: token tensors -> {"logits"}); examples are
    batched by length so padding stays small."""
    order = length_order(examples)
    out: list[np.ndarray | None] = [None] * len(examples)
    with progress(show=show) as bar:
        job = bar.add_task("predicting", total=len(examples))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            texts = [examples[i]["text"] for i in chunk]
            pairs = [examples[i]["text_pair"] for i in chunk] if "text_pair" in examples[chunk[0]] else None
            batch = tokenizer(
                texts, pairs, truncation=True, max_length=max_length, padding=True, return_tensors="np"
            )
            result = infer(batch)["logits"]
            for row, i in zip(result, chunk, strict=True):
                out[i] = row
            bar.advance(job, len(chunk))
    return np.stack(out) if out else np.zeros((0, width))


def sequence_logits(
    runtime: Runtime, examples: Sequence[dict[str, Any]], batch_size: int, show: bool
) -> np.ndarray:
    """Logits in input order: the token graph's, or - for a bundle of learners that read the
    examples themselves (n-grams, columns, an ensemble) - theirs."""
    if runtime.reads_examples:
        return examples_logits(runtime, examples, show)
    return token_logits(
        runtime.tokenizer,
        runtime.infer,
        examples,
        runtime.recipe.model.max_length,
        batch_size,
        len(runtime.labels),
        show,
    )


EXAMPLES_CHUNK = 1024


def examples_logits(runtime: Runtime, examples: Sequence[dict[str, Any]], show: bool) -> np.ndarray:
    """The logits of learners that read examples, `EXAMPLES_CHUNK` at a time (with a progress bar)."""
    found = []
    with progress(show=show) as bar:
        job = bar.add_task("predicting", total=len(examples))
        for start in range(0, len(examples), EXAMPLES_CHUNK):
            chunk = list(examples[start : start + EXAMPLES_CHUNK])
            found.append(runtime.infer({"examples": chunk})["logits"])
            bar.advance(job, len(chunk))
    return np.concatenate(found) if found else np.zeros((0, len(runtime.labels)))


class SequenceHead(TaskDefaults):
    """Loading and running a sequence-classification head; the task decides what logits mean."""

    plain_tokens = True

    def load_model(self, model_dir: Path, trust_remote_code: bool) -> Any:
        from transformers import AutoModelForSequenceClassification

        return AutoModelForSequenceClassification.from_pretrained(
            model_dir, trust_remote_code=trust_remote_code
        ).eval()

    def outputs(
        self, runtime: Runtime, examples: Sequence[dict[str, Any]], batch_size: int, show: bool
    ) -> np.ndarray:
        return sequence_logits(runtime, examples, batch_size, show)

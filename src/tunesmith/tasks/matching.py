"""Question-answer matching: does `text_pair` answer (or mean the same as) `text`?

Two models behind one task:
- cross (`task.matching_mode: cross`): one encoder reads both texts together, a 2-way head says
  match or not. Most accurate; every candidate costs a forward pass.
- bi (`bi`): each text is embedded alone (mean pooling, unit length); trained with in-batch
  negatives (every other answer in the batch is a negative for a positive pair, plus the batch's
  labelled negatives), as sentence-transformers' MultipleNegativesRankingLoss does. Answers of a
  knowledge base are embedded once, so search is one matrix product.

Records are pairs with a 0/1 label, as `tunesmith negatives` writes them. Without `text_pair` a
request is a search: the model ranks the knowledge base (every answer that was a positive in the
run's data, stored in the bundle) and returns the top `task.top_k`. The match threshold is tuned
on validation for the best F1. Metrics: pair accuracy/F1/ROC-AUC/PR-AUC, and over questions with
several candidates, MRR@10 and Recall@1/5/10.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tunesmith import atomic
from tunesmith.console import progress
from tunesmith.metrics.uncertainty import SubsetMetric, mean_over
from tunesmith.tasks.base import Runtime, TaskDefaults
from tunesmith.tasks.binary_scores import best_f1_threshold, binary_metrics, plot_score_histogram
from tunesmith.tasks.classification import softmax
from tunesmith.tasks.sequence_head import (
    SequenceHead,
    build_head,
    length_order,
    logits_of,
    sequence_logits,
    tokenize,
)

if TYPE_CHECKING:  # training types; an ONNX runtime answers without transformers
    from transformers import EvalPrediction, PreTrainedTokenizerBase

KNOWLEDGE_BASE = "knowledge_base.jsonl"
KB_VECTORS = "knowledge_base_vectors"
_TRUE = {"1", "true", "yes", "y", "match", "positive"}
_FALSE = {"0", "false", "no", "n", "mismatch", "negative"}


def ranking_metrics(records: Sequence[dict[str, Any]], scores: Sequence[float]) -> dict[str, float]:
    """MRR@10 and Recall@k over questions that have several candidates and at least one answer."""
    groups: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for record, score in zip(records, scores, strict=True):
        groups[record["text"]].append((float(score), int(record["label"])))
    ranks = []
    for items in groups.values():
        positives = [score for score, label in items if label]
        if len(items) < 2 or not positives:
            continue
        best = max(positives)
        # ties count against the model: equal scores for every candidate are not a first place
        ranks.append(1 + sum(1 for score, label in items if not label and score >= best))
    if not ranks:
        return {"ranking_queries": 0}
    rank = np.asarray(ranks)
    return {
        "mrr@10": float(np.where(rank <= 10, 1.0 / rank, 0.0).mean()),
        "recall@1": float((rank <= 1).mean()),
        "recall@5": float((rank <= 5).mean()),
        "recall@10": float((rank <= 10).mean()),
        "ranking_queries": len(ranks),
    }


def handover_threshold(
    answerable: Sequence[tuple[float, bool]], unanswerable: Sequence[float], precision: float
) -> dict[str, Any]:
    """The lowest top score at which the answers given are right `precision` of the time, over
    answerable questions (score, top answer right) and as many unanswerable ones (every answer
    given is wrong); above every score when no threshold reaches it."""
    scores = np.asarray([s for s, _ in answerable] + list(unanswerable), dtype=float)
    right = np.asarray([c for _, c in answerable] + [False] * len(unanswerable), dtype=bool)
    is_answerable = np.arange(len(scores)) < len(answerable)
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], np.cumsum(right[order])
    threshold, reached = float(ranked[0]) + 1e-6, 0.0
    for i, score in enumerate(ranked):
        last_of_tie = i + 1 == len(ranked) or ranked[i + 1] < score
        if last_of_tie and hits[i] / (i + 1) >= precision:
            threshold, reached = float(score), float(hits[i] / (i + 1))
    answered = scores >= threshold
    return {
        "answer_threshold": threshold,
        "answer_precision": round(reached, 4),
        "answer_coverage": round(float(answered[is_answerable].mean()), 4),
        "answer_recall_at_1": round(float(right[is_answerable].mean()), 4),
        "answer_unanswerable_handed_over": round(float((~answered[~is_answerable]).mean()), 4)
        if len(unanswerable)
        else None,
        "answer_questions": len(answerable),
    }


SHORTLIST = 32  # knowledge-base answers a cross-encoder reads per query (retrieved by TF-IDF first)
FIT_QUESTIONS = 200  # validation questions the hand-over threshold is fitted on, at most


def shortlist(runtime: Runtime, base: list[str], query: str) -> list[int]:
    """Positions of the knowledge-base answers a model reads for `query`: all of a small base, else
    the `SHORTLIST` nearest by TF-IDF cosine (the index is built once per loaded model)."""
    if len(base) <= SHORTLIST:
        return list(range(len(base)))
    index = runtime.cache.get("kb_index")
    if index is None:
        from tunesmith.data.ngrams import TfidfIndex

        index = runtime.cache["kb_index"] = TfidfIndex(base)
    return index.nearest(query, SHORTLIST)  # type: ignore[no-any-return]


class MatchingBase(TaskDefaults):
    type = "matching"
    plain_tokens = True
    inputs = ("text", "text_pair")
    best_metric = "roc_auc"
    headline = ("f1", "roc_auc", "mrr@10")

    def parse_label(self, value: Any) -> str:
        text = str(value).strip().lower()
        if text.endswith(".0"):
            text = text[:-2]
        if text in _TRUE:
            return "1"
        if text in _FALSE:
            return "0"
        raise ValueError(f"matching needs 1/0 (or true/false), got {value!r}")

    def label_space(self, labels: Sequence[Any]) -> list[str]:
        return ["0", "1"]

    def save_extras(self, run_dir: Path, model_dir: Path) -> None:
        """The knowledge base search answers from: every distinct answer of a positive pair."""
        answers: dict[str, None] = {}
        for split in ("train", "validation", "test"):
            path = run_dir / "data" / f"{split}.jsonl"
            if path.is_file():
                with path.open(encoding="utf-8") as handle:
                    for line in handle:
                        record = json.loads(line)
                        if record["label"] == "1":
                            answers.setdefault(record["text_pair"])
        lines = "".join(json.dumps({"answer": a}, ensure_ascii=False) + "\n" for a in answers)
        atomic.write_text(model_dir / KNOWLEDGE_BASE, lines)

    def knowledge_base(self, runtime: Runtime) -> list[str]:
        if "knowledge_base" not in runtime.cache:
            path = runtime.model_dir / KNOWLEDGE_BASE
            lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
            runtime.cache["knowledge_base"] = [json.loads(line)["answer"] for line in lines if line.strip()]
        return list(runtime.cache["knowledge_base"])

    def pair_scores(
        self, runtime: Runtime, examples: Sequence[dict[str, Any]], batch_size: int, show: bool
    ) -> np.ndarray:
        raise NotImplementedError

    def search(
        self, runtime: Runtime, queries: list[str], batch_size: int, top_k: int | None = None
    ) -> list[list[tuple[str, float]]]:
        raise NotImplementedError

    def outputs(
        self, runtime: Runtime, examples: Sequence[dict[str, Any]], batch_size: int, show: bool
    ) -> list[dict[str, Any]]:
        """Per example: {score} for a pair, {answers: [(answer, score)]} for a search."""
        out: list[dict[str, Any]] = [{} for _ in examples]
        pairs = [i for i, e in enumerate(examples) if "text_pair" in e]
        searches = [i for i, e in enumerate(examples) if "text_pair" not in e]
        if pairs:
            scores = self.pair_scores(runtime, [examples[i] for i in pairs], batch_size, show)
            for i, score in zip(pairs, scores, strict=True):
                out[i] = {"score": float(score)}
        if searches:
            found = self.search(runtime, [examples[i]["text"] for i in searches], batch_size)
            for i, ranked in zip(searches, found, strict=True):
                out[i] = {"answers": ranked}
        return out

    def decode(
        self,
        outputs: Any,
        examples: Sequence[dict[str, Any]],
        labels: list[str],
        state: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        threshold = (state or {}).get("threshold", 0.5)
        answers = []
        for output in outputs:
            if "score" in output:
                answers.append({"match": output["score"] >= threshold, "score": output["score"]})
            else:
                answers.append({"answers": [{"answer": a, "score": s} for a, s in output["answers"]]})
        return answers

    def calibrate(
        self,
        outputs: Any,
        references: Sequence[Any],
        labels: list[str],
        class_weights: Sequence[float] | None = None,
    ) -> dict[str, Any]:
        scores = [o["score"] for o in outputs]
        return {"threshold": best_f1_threshold(scores, [int(r) for r in references])}

    def fit_search(self, runtime: Runtime, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """The hand-over threshold of /v1/answer, from the validation questions with a right answer:
        each searches the knowledge base as it is (answerable: is the top answer right?) and once
        more without its right answers (unanswerable: the best wrong answer's score, what a
        question the knowledge base cannot answer scores)."""
        right: dict[str, set[str]] = defaultdict(set)
        for record in records:
            if record["label"] == "1":
                right[record["text"]].add(record["text_pair"])
        base = self.knowledge_base(runtime)
        if not right or len(base) < 2:
            return {}
        questions = list(right)
        if len(questions) > FIT_QUESTIONS:  # a seeded sample: the threshold is a share, not a count
            questions = [
                questions[i]
                for i in sorted(np.random.default_rng(0).choice(len(questions), FIT_QUESTIONS, replace=False))
            ]
        deepest = min(len(base), max(len(r) for r in right.values()) + 1)
        found = self.search(runtime, questions, 64, top_k=deepest)
        answerable, unanswerable = [], []
        for question, ranked in zip(questions, found, strict=True):
            answerable.append((ranked[0][1], ranked[0][0] in right[question]))
            wrong = [score for answer, score in ranked if answer not in right[question]]
            if wrong:
                unanswerable.append(wrong[0])
        return handover_threshold(answerable, unanswerable, self.options.answer_precision)

    def subset_metrics(
        self, records: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]], labels: list[str]
    ) -> dict[str, SubsetMetric]:
        """Decision metrics of the pairs (ranking needs whole question groups, so it has none)."""
        truth = np.asarray([int(r["label"]) for r in records])
        matched = np.asarray([int(a["match"]) for a in answers])
        hits = (truth == 1) & (matched == 1)

        def f1(rows: np.ndarray) -> float:
            total = matched[rows].sum() + truth[rows].sum()
            return float(2 * hits[rows].sum() / total) if total else 0.0

        return {"f1": f1, "accuracy": mean_over(truth == matched)}

    def trivial_answers(
        self, train_labels: Sequence[Any], records: Sequence[dict[str, Any]], labels: list[str]
    ) -> tuple[str, list[dict[str, Any]]] | None:
        """'match' for every pair (the constant answer with the best F1), scored at the training
        share of matches."""
        if not train_labels:
            return None
        share = sum(str(label) == "1" for label in train_labels) / len(train_labels)
        return "always 'match'", [{"match": True, "score": share} for _ in records]

    def evaluate(
        self,
        records: Sequence[dict[str, Any]],
        answers: Sequence[dict[str, Any]],
        labels: list[str],
        out_dir: Path,
        split: str,
    ) -> dict[str, Any]:
        truth = [int(r["label"]) for r in records]
        scores = [a["score"] for a in answers]
        matched = [int(a["match"]) for a in answers]
        threshold = min((s for s, m in zip(scores, matched, strict=True) if m), default=1.0)
        metrics: dict[str, Any] = binary_metrics(scores, truth, predicted=matched)
        metrics.update(ranking_metrics(records, scores))
        metrics["count"] = len(records)
        if records:
            plot_score_histogram(
                scores, truth, threshold, out_dir / f"scores_{split}.png", f"match scores ({split})"
            )
        return metrics


class CrossEncoderMatching(MatchingBase, SequenceHead):
    # Attention across both texts is learned anew; at a small encoder's classification rate (1e-4)
    # multilingual-E5 on 1,200 ATEC pairs collapsed to a constant score (validation ROC-AUC 0.56,
    # loss stuck at the prior's entropy); at 5e-5 it learned (0.76). Cross-encoders train at half.
    learning_rate_scale = 0.5
    learner_outputs = "softmax"  # the labels 0 and 1: the score is the probability of 1
    fit_search_examples = FIT_QUESTIONS * SHORTLIST  # each question against its shortlist

    def learners(self, run_dir: Path) -> tuple[str, ...]:
        """The pair's n-grams (linear) and similarity figures (trees) beside the cross-encoder."""
        return ("pair_linear", "pair_lightgbm", "transformer")

    def outputs_of_logits(self, logits: np.ndarray) -> list[dict[str, Any]]:
        return [{"score": float(s)} for s in softmax(np.asarray(logits, dtype=np.float64))[:, 1]]

    def build_model(self, model_dir: Path, labels: list[str], trust_remote_code: bool) -> Any:
        return build_head(model_dir, labels, "single_label_classification", trust_remote_code)

    def encode(
        self,
        batch: dict[str, list[Any]],
        tokenizer: PreTrainedTokenizerBase,
        max_length: int,
        labels: list[str],
    ) -> dict[str, Any]:
        encoded = tokenize(batch, tokenizer, max_length)
        encoded["labels"] = [int(label) for label in batch["label"]]
        return encoded

    def pair_scores(
        self, runtime: Runtime, examples: Sequence[dict[str, Any]], batch_size: int, show: bool
    ) -> np.ndarray:
        return softmax(sequence_logits(runtime, examples, batch_size, show).astype(np.float64))[:, 1]

    def search(
        self, runtime: Runtime, queries: list[str], batch_size: int, top_k: int | None = None
    ) -> list[list[tuple[str, float]]]:
        """The knowledge base ranked for each query: every answer scored by the model when there are
        at most `SHORTLIST`, else the `SHORTLIST` answers nearest by TF-IDF cosine (word and character
        n-grams), retrieved first - a model reading both texts costs one pass per candidate."""
        base = self.knowledge_base(runtime)
        results = []
        for query in queries:
            if not base:
                results.append([])
                continue
            candidates = shortlist(runtime, base, query)
            scores = self.pair_scores(
                runtime, [{"text": query, "text_pair": base[j]} for j in candidates], batch_size, False
            )
            top = np.argsort(-scores)[: top_k or self.options.top_k]
            results.append([(base[candidates[j]], float(scores[j])) for j in top])
        return results

    def trainer_metrics(self, labels: list[str]) -> Callable[[EvalPrediction], dict[str, float]]:
        def compute(prediction: EvalPrediction) -> dict[str, float]:
            scores = softmax(logits_of(prediction).astype(np.float64))[:, 1]
            return binary_metrics(scores, prediction.label_ids, (scores >= 0.5).astype(int))

        return compute


class BiEncoderMatching(MatchingBase):
    graph_outputs = ("embedding",)

    def inference_graph(self, model: Any) -> Any:
        from tunesmith.tasks.graph import EmbeddingGraph

        return EmbeddingGraph(model)

    def export_extras(self, runtime: Runtime) -> dict[str, np.ndarray]:
        """The knowledge base embedded by the exported graph, so search starts without embedding it."""
        base = self.knowledge_base(runtime)
        return {KB_VECTORS: self.embeddings(runtime, base, 64)} if base else {}

    def build_model(self, model_dir: Path, labels: list[str], trust_remote_code: bool) -> Any:
        from transformers import AutoModel

        from tunesmith.tasks.bi_encoder import BiEncoder

        return BiEncoder(AutoModel.from_pretrained(model_dir, trust_remote_code=trust_remote_code))

    def load_model(self, model_dir: Path, trust_remote_code: bool) -> Any:
        return self.build_model(model_dir, [], trust_remote_code).eval()

    def collator(self, tokenizer: PreTrainedTokenizerBase) -> Any:
        from tunesmith.tasks.bi_encoder import PairCollator

        return PairCollator(tokenizer)

    def encode(
        self,
        batch: dict[str, list[Any]],
        tokenizer: PreTrainedTokenizerBase,
        max_length: int,
        labels: list[str],
    ) -> dict[str, Any]:
        first = tokenizer(batch["text"], truncation=True, max_length=max_length)
        second = tokenizer(batch["text_pair"], truncation=True, max_length=max_length)
        return {
            "input_ids": first["input_ids"],
            "attention_mask": first["attention_mask"],
            "pair_input_ids": second["input_ids"],
            "pair_attention_mask": second["attention_mask"],
            "labels": [int(label) for label in batch["label"]],
        }

    def embeddings(
        self, runtime: Runtime, texts: Sequence[str], batch_size: int, show: bool = False
    ) -> np.ndarray:
        order = length_order([{"text": t} for t in texts])
        out: np.ndarray | None = None
        with progress(show=show) as bar:
            job = bar.add_task("embedding", total=len(texts))
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                batch = runtime.tokenizer(
                    [texts[i] for i in chunk],
                    truncation=True,
                    max_length=runtime.recipe.model.max_length,
                    padding=True,
                    return_tensors="np",
                )
                vectors = runtime.infer(batch)["embedding"]
                if out is None:
                    out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
                out[chunk] = vectors
                bar.advance(job, len(chunk))
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)

    def pair_scores(
        self, runtime: Runtime, examples: Sequence[dict[str, Any]], batch_size: int, show: bool
    ) -> np.ndarray:
        questions = self.embeddings(runtime, [e["text"] for e in examples], batch_size, show)
        answers = self.embeddings(runtime, [e["text_pair"] for e in examples], batch_size, show)
        return (questions * answers).sum(-1)

    def search(
        self, runtime: Runtime, queries: list[str], batch_size: int, top_k: int | None = None
    ) -> list[list[tuple[str, float]]]:
        base = self.knowledge_base(runtime)
        if not base:
            return [[] for _ in queries]
        if KB_VECTORS not in runtime.cache:
            stored = runtime.extras.get(KB_VECTORS)  # embedded when the backend was exported
            fits = stored is not None and len(stored) == len(base)
            runtime.cache[KB_VECTORS] = stored if fits else self.embeddings(runtime, base, batch_size)
        scores = self.embeddings(runtime, queries, batch_size) @ runtime.cache[KB_VECTORS].T
        top = np.argsort(-scores, axis=1)[:, : top_k or self.options.top_k]
        return [[(base[j], float(row[j])) for j in picks] for row, picks in zip(scores, top, strict=True)]

    def trainer_metrics(self, labels: list[str]) -> Callable[[EvalPrediction], dict[str, float]]:
        from sklearn.metrics import roc_auc_score

        def compute(prediction: EvalPrediction) -> dict[str, float]:
            scores = logits_of(prediction).ravel()
            truth = np.asarray(prediction.label_ids).ravel()
            both = 0 < truth.sum() < len(truth)
            return {"roc_auc": float(roc_auc_score(truth, scores)) if both else 0.0}

        return compute


def matching_task(options: Any) -> MatchingBase:
    """The cross- or bi-encoder, as `task.matching_mode` says."""
    return BiEncoderMatching(options) if options.matching_mode == "bi" else CrossEncoderMatching(options)

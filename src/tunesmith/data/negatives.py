"""Wrong answers for question-answer data: random, same category, and BM25 hard negatives.

A negative is never the question's own answer nor a near-duplicate of it (character 3-gram
Jaccard at or above `near_threshold`), so a paraphrase of the right answer is not taught as wrong.
BM25 scores come from rank_bm25 (Okapi); Chinese is tokenized with jieba, other text by words.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from tunesmith.data.dedup import normalize, shingles

Method = Literal["random", "category", "bm25"]
METHODS: tuple[Method, ...] = ("random", "category", "bm25")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """jieba words for text with Chinese, lower-cased words otherwise; punctuation dropped."""
    if _CJK.search(text):
        from tunesmith.data.pii.names import load_jieba

        return [w for w in load_jieba().lcut(text.lower(), HMM=False) if _WORD.fullmatch(w)]
    return _WORD.findall(text.lower())


def _best_first(scores: np.ndarray, wanted: int) -> Iterator[int]:
    """Indexes by falling score (ties by index): the top `wanted` cheaply, the rest only if asked."""
    order = np.arange(len(scores))
    if wanted < len(scores):
        top = np.argpartition(-scores, wanted)[:wanted]
        top = top[np.lexsort((top, -scores[top]))]
        yield from (int(i) for i in top)
        order = np.setdiff1d(order, top, assume_unique=True)
    yield from (int(i) for i in order[np.lexsort((order, -scores[order]))])


def _random_order(rng: random.Random, pool: Sequence[int], wanted: int) -> Iterator[int]:
    """A random order of `pool`: a sample of `wanted` first (cheap), the shuffled rest only if asked."""
    first = rng.sample(pool, min(wanted, len(pool)))
    yield from first
    taken = set(first)
    rest = [i for i in pool if i not in taken]
    rng.shuffle(rest)
    yield from rest


@dataclass
class NegativesReport:
    pairs: Counter[str] = field(default_factory=Counter)
    skipped_near_duplicates: int = 0
    questions_short_of_negatives: int = 0


def _is_near(candidate: str, truth: set[str], threshold: float) -> bool:
    grams = shingles(candidate)
    return len(grams & truth) >= threshold * len(grams | truth)


def build_pairs(
    records: Sequence[dict[str, Any]],
    per_question: int = 3,
    method: Method = "bm25",
    seed: int = 42,
    near_threshold: float = 0.8,
) -> tuple[list[dict[str, Any]], NegativesReport]:
    """Records {question, answer, category?} -> pairs {question, answer, label 1/0, kind}."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    rng = random.Random(seed)
    answers: list[str] = []
    answer_index: dict[str, int] = {}
    category_of: dict[int, set[str]] = defaultdict(set)
    for record in records:
        key = normalize(record["answer"])
        if key not in answer_index:
            answer_index[key] = len(answers)
            answers.append(record["answer"])
        if record.get("category") is not None:
            category_of[answer_index[key]].add(str(record["category"]))
    true_answers: dict[str, set[int]] = defaultdict(set)
    question_category: dict[str, str] = {}
    for record in records:
        true_answers[record["question"]].add(answer_index[normalize(record["answer"])])
        if record.get("category") is not None:
            question_category.setdefault(record["question"], str(record["category"]))
    by_category: dict[str, list[int]] = defaultdict(list)
    for index, categories in category_of.items():
        for category in categories:
            by_category[category].append(index)
    bm25 = None
    if method == "bm25" and answers:
        from rank_bm25 import BM25Okapi

        bm25 = BM25Okapi([tokenize(answer) or [""] for answer in answers])
    report = NegativesReport()
    pairs: list[dict[str, Any]] = []
    for question, truth in true_answers.items():
        category = question_category.get(question)
        for index in sorted(truth):
            pairs.append({"question": question, "answer": answers[index], "label": 1, "kind": "positive"})
            report.pairs["positive"] += 1
        truth_grams = set().union(*(shingles(answers[i]) for i in truth))
        wanted = per_question * 4 + len(truth) + 5
        if bm25 is not None:
            candidates = _best_first(np.asarray(bm25.get_scores(tokenize(question))), wanted)
        elif method == "category" and category is not None:
            candidates: Iterable[int] = _random_order(rng, by_category[category], wanted)
        elif method == "category":
            candidates = []  # a question without a category gets no same-category negatives
        else:
            candidates = _random_order(rng, range(len(answers)), wanted)
        chosen = 0
        for index in candidates:
            if chosen == per_question:
                break
            if index in truth:
                continue
            if _is_near(answers[index], truth_grams, near_threshold):
                report.skipped_near_duplicates += 1
                continue
            pairs.append({"question": question, "answer": answers[index], "label": 0, "kind": method})
            report.pairs[method] += 1
            chosen += 1
        if chosen < per_question:
            report.questions_short_of_negatives += 1
    return pairs, report

"""Word and character n-grams weighted by TF-IDF: what the linear learner reads of a text.

Words are runs of letters or digits, and each Chinese, Japanese or Korean character is a word
of its own; word n-grams are unigrams and bigrams. Character n-grams (1 to 4 characters, inside
each space-separated token padded with a space, as scikit-learn's `char_wb`) read Chinese without
segmentation and survive typos and inflections. Each block is weighted by sublinear TF-IDF and
scaled to unit length, the recipe of scikit-learn's `TfidfVectorizer(sublinear_tf=True)`.

Written here rather than taken from scikit-learn: its fitted vectorizer only saves as a pickle,
and the slim install answers without scikit-learn or SciPy; the vocabulary here is a JSON list
and the same code builds the features at fit time and when serving, so they are identical.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tunesmith import atomic
from tunesmith.data.sparse_rows import SparseRows

_CJK = "\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
WORDS = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")


@dataclass(frozen=True)
class NgramOptions:
    word_n: tuple[int, int] = (1, 2)
    char_n: tuple[int, int] = (1, 4)
    min_df: int = 2  # n-grams in fewer training texts are left out (noise, and they cannot generalise)
    max_features: int = 300_000  # the most frequent ones, words and characters together


def word_grams(text: str, low: int, high: int) -> list[str]:
    words = WORDS.findall(text)
    grams = words if low <= 1 <= high else []
    for n in range(max(low, 2), high + 1):
        grams = grams + [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    return grams


def char_grams(text: str, low: int, high: int) -> list[str]:
    grams: list[str] = []
    for token in text.split():
        padded = f" {token} "
        for n in range(low, high + 1):
            if n > len(padded):
                break
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


class NgramVocabulary:
    """The n-grams kept from the training texts, their column and inverse document frequency."""

    def __init__(self, words: list[str], chars: list[str], idf: np.ndarray, options: NgramOptions) -> None:
        self.words = {gram: i for i, gram in enumerate(words)}
        self.chars = {gram: i + len(words) for i, gram in enumerate(chars)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self.options = options

    @property
    def width(self) -> int:
        return len(self.words) + len(self.chars)

    def grams(self, text: str) -> tuple[list[str], list[str]]:
        lowered = text.lower()
        o = self.options
        return word_grams(lowered, *o.word_n), char_grams(lowered, *o.char_n)

    @classmethod
    def fit(cls, texts: Iterable[str], options: NgramOptions | None = None) -> NgramVocabulary:
        options = options or NgramOptions()
        probe = cls([], [], np.zeros(0), options)
        word_df: Counter[str] = Counter()
        char_df: Counter[str] = Counter()
        documents = 0
        for text in texts:
            words, chars = probe.grams(text)
            word_df.update(set(words))
            char_df.update(set(chars))
            documents += 1
        kept = [
            (df, block, gram)
            for block, counts in ((0, word_df), (1, char_df))
            for gram, df in counts.items()
            if df >= options.min_df
        ]
        kept.sort(key=lambda item: (-item[0], item[1], item[2]))
        kept = kept[: options.max_features]
        words = sorted(gram for _, block, gram in kept if block == 0)
        chars = sorted(gram for _, block, gram in kept if block == 1)
        counts = [word_df[g] for g in words] + [char_df[g] for g in chars]
        idf = np.log((1 + documents) / (1 + np.asarray(counts, dtype=np.float64))) + 1.0
        return cls(words, chars, idf, options)

    def weights(self, text: str) -> dict[int, float]:
        """Column -> weight of one text: sublinear TF-IDF, each block (words, characters) of unit length."""
        words, chars = self.grams(text)
        found: dict[int, float] = {}
        for grams, index in ((words, self.words), (chars, self.chars)):
            block: dict[int, float] = {}
            for gram, count in Counter(grams).items():
                column = index.get(gram)
                if column is not None:
                    block[column] = (1.0 + math.log(count)) * self.idf[column]
            norm = math.sqrt(sum(v * v for v in block.values()))
            if norm > 0:
                found.update((column, value / norm) for column, value in block.items())
        return found

    def transform(self, texts: Sequence[str]) -> SparseRows:
        rows = []
        for text in texts:
            weights = self.weights(text)
            columns = sorted(weights)
            rows.append((columns, [weights[c] for c in columns]))
        return SparseRows.from_rows(rows, self.width)

    def describe(self) -> str:
        o = self.options
        return (
            f"{len(self.words):,} word {o.word_n[0]}-{o.word_n[1]}-grams and {len(self.chars):,} "
            f"character {o.char_n[0]}-{o.char_n[1]}-grams (TF-IDF)"
        )

    def save(self, path: Path) -> None:
        by_column = sorted(self.words, key=self.words.__getitem__)
        chars = sorted(self.chars, key=self.chars.__getitem__)
        atomic.write_text(
            path,
            json.dumps(
                {
                    "options": asdict(self.options),
                    "words": by_column,
                    "chars": chars,
                    "idf": self.idf.tolist(),
                },
                ensure_ascii=False,
            ),
        )

    @classmethod
    def load(cls, path: Path) -> NgramVocabulary:
        data = json.loads(path.read_text(encoding="utf-8"))
        options = data["options"]
        return cls(
            data["words"],
            data["chars"],
            np.asarray(data["idf"]),
            NgramOptions(
                tuple(options["word_n"]), tuple(options["char_n"]), options["min_df"], options["max_features"]
            ),  # type: ignore[arg-type]
        )


class TfidfIndex:
    """Texts searchable by TF-IDF cosine: the nearest ones to a query, from an inverted index (each
    n-gram's rows), in numpy alone."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.vocabulary = NgramVocabulary.fit(texts, NgramOptions(min_df=1))
        matrix = self.vocabulary.transform(texts)
        rows = np.repeat(np.arange(len(texts)), np.diff(matrix.indptr))
        order = np.argsort(matrix.indices, kind="stable")
        self.rows, self.values = rows[order], matrix.values[order].astype(np.float64)
        self.starts = np.searchsorted(matrix.indices[order], np.arange(matrix.width + 1))
        self.size = len(texts)

    def nearest(self, query: str, k: int) -> list[int]:
        """Positions of the `k` texts with the highest cosine to `query` (ties: the earlier text)."""
        scores = np.zeros(self.size)
        for column, weight in self.vocabulary.weights(query).items():
            start, stop = self.starts[column], self.starts[column + 1]
            np.add.at(scores, self.rows[start:stop], self.values[start:stop] * weight)
        return [int(j) for j in np.argsort(-scores, kind="stable")[:k]]

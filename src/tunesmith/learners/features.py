"""Featurizers: what a learner other than the transformer reads of an example.

Each is fitted on the training examples, saved as JSON beside the model it feeds, and turns any
later example - validation, test, a request - into the same features, in Python and numpy alone
(no converter carries string processing into ONNX, so this part always runs in process):
- `ngrams`: a text's word and character n-grams, TF-IDF (sparse);
- `pair_ngrams`: two texts' TF-IDF vectors as their product (the n-grams they share, weighted)
  and their absolute difference (what only one has) - a linear model of a pair (sparse);
- `pair_features`: a pair's similarities - character, bigram and word overlap, TF-IDF cosine,
  BM25 both ways, edit similarity, longest common substring, length ratio, numbers that differ;
- `columns`: a record's fields as numbers (`columns.py`), missing values as NaN, for trees;
- `scaled_columns`: the same standardised, categories one-hot, missing as 0: for a linear model.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from tunesmith import atomic
from tunesmith.data.column_table import ColumnTable
from tunesmith.data.ngrams import WORDS, NgramOptions, NgramVocabulary
from tunesmith.data.sparse_rows import SparseRows

FEATURES_FILE = "features.json"
VOCABULARY_FILE = "ngrams.json"

Features = SparseRows | np.ndarray


class Featurizer(Protocol):
    kind: str
    reads: tuple[str, ...]  # the example fields it reads
    sparse: bool
    categorical: list[int]  # positions of category codes (trees split them by value)

    @property
    def width(self) -> int: ...

    def transform(self, examples: Sequence[dict[str, Any]]) -> Features: ...

    def check(self, example: dict[str, Any]) -> None:
        """Raise ValueError (a ShapeError naming the field) for an example it cannot read."""
        ...

    def describe(self) -> str: ...

    def save(self, folder: Path) -> None: ...


# -- text ------------------------------------------------------------------------------------
class TextNgrams:
    kind = "ngrams"
    reads = ("text",)
    sparse = True
    categorical: list[int] = []  # noqa: RUF012 - none

    def __init__(self, vocabulary: NgramVocabulary) -> None:
        self.vocabulary = vocabulary

    @classmethod
    def fit(cls, examples: Sequence[dict[str, Any]]) -> TextNgrams:
        return cls(NgramVocabulary.fit(e["text"] for e in examples))

    @property
    def width(self) -> int:
        return self.vocabulary.width

    def transform(self, examples: Sequence[dict[str, Any]]) -> Features:
        return self.vocabulary.transform([e["text"] for e in examples])

    def check(self, example: dict[str, Any]) -> None:
        return None

    def describe(self) -> str:
        return self.vocabulary.describe()

    def save(self, folder: Path) -> None:
        self.vocabulary.save(folder / VOCABULARY_FILE)
        atomic.write_json(folder / FEATURES_FILE, {"kind": self.kind})

    @classmethod
    def load(cls, folder: Path, spec: dict[str, Any]) -> TextNgrams:
        return cls(NgramVocabulary.load(folder / VOCABULARY_FILE))


class PairNgrams(TextNgrams):
    kind = "pair_ngrams"
    reads = ("text", "text_pair")

    @classmethod
    def fit(cls, examples: Sequence[dict[str, Any]]) -> PairNgrams:
        texts = [t for e in examples for t in (e["text"], e["text_pair"])]
        return cls(NgramVocabulary.fit(texts))

    @property
    def width(self) -> int:
        return 2 * self.vocabulary.width

    def transform(self, examples: Sequence[dict[str, Any]]) -> Features:
        shift = self.vocabulary.width
        rows = []
        for example in examples:
            first = self.vocabulary.weights(example["text"])
            second = self.vocabulary.weights(example["text_pair"])
            shared = sorted(first.keys() & second.keys())
            either = sorted(first.keys() | second.keys())
            columns = shared + [shift + c for c in either]
            values = [first[c] * second[c] for c in shared]
            values += [abs(first.get(c, 0.0) - second.get(c, 0.0)) for c in either]
            rows.append((columns, values))
        return SparseRows.from_rows(rows, self.width)

    def describe(self) -> str:
        return f"the product and difference of both texts' {self.vocabulary.describe()}"


# -- pairs: similarities -----------------------------------------------------------------------
PAIR_FEATURES = (
    "char_jaccard",
    "bigram_jaccard",
    "word_jaccard",
    "char_overlap",
    "bigram_overlap",
    "tfidf_cosine",
    "bm25",
    "bm25_reverse",
    "edit_similarity",
    "longest_common",
    "length_ratio",
    "length_difference",
    "length_first",
    "length_second",
    "numbers_differ",
)
_NUMBERS = re.compile(r"\d+(?:\.\d+)?")
BM25_K1, BM25_B = 1.2, 0.75


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


class PairFeatures:
    """A pair's similarity figures (`PAIR_FEATURES`), for trees."""

    kind = "pair_features"
    reads = ("text", "text_pair")
    sparse = False
    categorical: list[int] = []  # noqa: RUF012 - none
    width = len(PAIR_FEATURES)

    def __init__(self, vocabulary: NgramVocabulary, average_words: float) -> None:
        self.vocabulary = vocabulary  # TF-IDF weights, and the IDF that BM25 reads
        self.average_words = average_words

    @classmethod
    def fit(cls, examples: Sequence[dict[str, Any]]) -> PairFeatures:
        texts = [t for e in examples for t in (e["text"], e["text_pair"])]
        vocabulary = NgramVocabulary.fit(texts, NgramOptions(word_n=(1, 1), char_n=(1, 3)))
        average = float(np.mean([len(WORDS.findall(t.lower())) for t in texts])) if texts else 1.0
        return cls(vocabulary, max(average, 1.0))

    def _bm25(self, query: list[str], document: list[str]) -> float:
        counts = Counter(document)
        scale = BM25_K1 * (1 - BM25_B + BM25_B * len(document) / self.average_words)
        total = 0.0
        for word in set(query):
            column = self.vocabulary.words.get(word)
            tf = counts.get(word, 0)
            if column is not None and tf:
                total += self.vocabulary.idf[column] * tf * (BM25_K1 + 1) / (tf + scale)
        return total

    def row(self, first: str, second: str) -> list[float]:
        a, b = first.lower(), second.lower()
        words_a, words_b = WORDS.findall(a), WORDS.findall(b)
        wa, wb = self.vocabulary.weights(a), self.vocabulary.weights(b)
        cosine = sum(v * wb.get(c, 0.0) for c, v in wa.items()) / 2  # two unit blocks: at most 2
        self_a, self_b = self._bm25(words_a, words_a), self._bm25(words_b, words_b)
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        common = matcher.find_longest_match(0, len(a), 0, len(b)).size
        shorter, longer = sorted((len(a), len(b)))
        numbers_a, numbers_b = set(_NUMBERS.findall(a)), set(_NUMBERS.findall(b))
        return [
            _jaccard(set(a), set(b)),
            _jaccard(_bigrams(a), _bigrams(b)),
            _jaccard(set(words_a), set(words_b)),
            _overlap(set(a), set(b)),
            _overlap(_bigrams(a), _bigrams(b)),
            cosine,
            self._bm25(words_a, words_b) / self_a if self_a else 0.0,
            self._bm25(words_b, words_a) / self_b if self_b else 0.0,
            matcher.ratio(),
            common / shorter if shorter else 0.0,
            shorter / longer if longer else 1.0,
            float(longer - shorter),
            float(len(a)),
            float(len(b)),
            float(bool(numbers_a or numbers_b) and numbers_a != numbers_b),
        ]

    def transform(self, examples: Sequence[dict[str, Any]]) -> Features:
        rows = [self.row(e["text"], e["text_pair"]) for e in examples]
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), self.width)

    def check(self, example: dict[str, Any]) -> None:
        return None

    def describe(self) -> str:
        return f"{self.width} similarity figures of the pair (overlap, TF-IDF cosine, BM25, edit, length)"

    def save(self, folder: Path) -> None:
        self.vocabulary.save(folder / VOCABULARY_FILE)
        atomic.write_json(
            folder / FEATURES_FILE,
            {"kind": self.kind, "features": list(PAIR_FEATURES), "average_words": self.average_words},
        )

    @classmethod
    def load(cls, folder: Path, spec: dict[str, Any]) -> PairFeatures:
        return cls(NgramVocabulary.load(folder / VOCABULARY_FILE), float(spec["average_words"]))


# -- columns -----------------------------------------------------------------------------------
def readable_table(examples: Sequence[dict[str, Any]]) -> ColumnTable:
    """The column table of the training records; ValueError when no field becomes a column."""
    table = ColumnTable.fit([e["columns"] for e in examples])
    if not table.feature_names:
        why = "; ".join(f"{name}: {reason}" for name, reason in table.left_out.items()) or "no fields"
        raise ValueError(f"no field becomes a column ({why})")
    return table


class ColumnFeatures:
    """A record's fields as numbers, missing values NaN (trees read NaN as missing)."""

    kind = "columns"
    reads = ("columns",)
    sparse = False

    def __init__(self, table: ColumnTable) -> None:
        self.table = table

    @classmethod
    def fit(cls, examples: Sequence[dict[str, Any]]) -> ColumnFeatures:
        return cls(readable_table(examples))

    @property
    def width(self) -> int:
        return len(self.table.feature_names)

    @property
    def categorical(self) -> list[int]:  # type: ignore[override]
        return self.table.categorical

    def transform(self, examples: Sequence[dict[str, Any]]) -> Features:
        return self.table.features([e["columns"] for e in examples])

    def check(self, example: dict[str, Any]) -> None:
        self.table.check(example["columns"])

    def describe(self) -> str:
        return self.table.describe()

    def save(self, folder: Path) -> None:
        atomic.write_json(folder / FEATURES_FILE, {"kind": self.kind, "table": self.table.as_json()})

    @classmethod
    def load(cls, folder: Path, spec: dict[str, Any]) -> ColumnFeatures:
        return cls(ColumnTable.from_json(spec["table"]))


class ScaledColumns(ColumnFeatures):
    """The columns for a linear model: numbers standardised on the training rows, each category
    one 0/1 column, missing values 0 (the training mean)."""

    kind = "scaled_columns"

    def __init__(self, table: ColumnTable, mean: list[float], scale: list[float]) -> None:
        super().__init__(table)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)

    @classmethod
    def fit(cls, examples: Sequence[dict[str, Any]]) -> ScaledColumns:
        table = readable_table(examples)
        raw = table.features([e["columns"] for e in examples]).astype(np.float64)
        import warnings

        with warnings.catch_warnings():  # an all-missing column: mean NaN, handled below
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nan_to_num(np.nanmean(raw, axis=0)) if len(raw) else np.zeros(raw.shape[1])
            scale = np.nan_to_num(np.nanstd(raw, axis=0)) if len(raw) else np.ones(raw.shape[1])
        scale[scale == 0] = 1.0
        categorical = table.categorical
        mean[categorical], scale[categorical] = 0.0, 1.0
        return cls(table, mean.tolist(), scale.tolist())

    @property
    def width(self) -> int:
        names = len(self.table.feature_names)
        return names - len(self.table.categories) + sum(len(v) for v in self.table.categories.values())

    @property
    def categorical(self) -> list[int]:  # type: ignore[override]
        return []

    def transform(self, examples: Sequence[dict[str, Any]]) -> Features:
        raw = self.table.features([e["columns"] for e in examples]).astype(np.float64)
        scaled = np.nan_to_num((raw - self.mean) / self.scale)
        categorical = self.table.categorical
        blocks = [np.delete(scaled, categorical, axis=1)]
        for position, values in zip(categorical, self.table.categories.values(), strict=True):
            codes = raw[:, position]
            one_hot = np.zeros((len(raw), len(values)))
            known = ~np.isnan(codes)
            one_hot[np.flatnonzero(known), codes[known].astype(np.int64)] = 1.0
            blocks.append(one_hot)
        return np.column_stack(blocks).astype(np.float32)

    def describe(self) -> str:
        return f"{self.table.describe()}; standardised, categories one-hot"

    def save(self, folder: Path) -> None:
        atomic.write_json(
            folder / FEATURES_FILE,
            {
                "kind": self.kind,
                "table": self.table.as_json(),
                "mean": self.mean.tolist(),
                "scale": self.scale.tolist(),
            },
        )

    @classmethod
    def load(cls, folder: Path, spec: dict[str, Any]) -> ScaledColumns:
        return cls(ColumnTable.from_json(spec["table"]), spec["mean"], spec["scale"])


FEATURIZERS: dict[str, Any] = {
    "ngrams": TextNgrams,
    "pair_ngrams": PairNgrams,
    "pair_features": PairFeatures,
    "columns": ColumnFeatures,
    "scaled_columns": ScaledColumns,
}


def load_featurizer(folder: Path) -> Featurizer:
    spec = json.loads((folder / FEATURES_FILE).read_text(encoding="utf-8"))
    return FEATURIZERS[spec["kind"]].load(folder, spec)  # type: ignore[no-any-return]


def fit_featurizer(kind: str, examples: Sequence[dict[str, Any]]) -> Featurizer:
    return FEATURIZERS[kind].fit(examples)  # type: ignore[no-any-return]

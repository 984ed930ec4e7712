"""Exact and near duplicates, inside a split and across splits (leakage).

Exact: equal after normalization (case, spaces and punctuation ignored). Near: MinHash LSH
(datasketch) over character 3-grams, which works for Chinese and English alike.
Policy: a later exact duplicate inside a split is removed; near duplicates inside a split are
reported; a record that (nearly) duplicates one in another split is removed from the later
split (train is kept first, so a test record repeating a training record is leakage), unless
the recipe allows it. Removed records go to the quarantine with the id they repeat.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
NUM_PERM = 64


def normalize(text: str) -> str:
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


def shingles(text: str, size: int = 3) -> set[bytes]:
    norm = normalize(text)
    if len(norm) <= size:
        return {norm.encode()}
    return {norm[i : i + size].encode() for i in range(len(norm) - size + 1)}


@dataclass
class DedupResult:
    remove: dict[int, str] = field(default_factory=dict)  # position -> reason
    counts: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, str]] = field(default_factory=list)

    def note(self, kind: str, subject: int, other: int, texts: Sequence[str], reason: str | None) -> None:
        """Count a duplicate pair; with a `reason`, `subject` is removed."""
        self.counts[kind] += 1
        if reason is not None:
            self.remove[subject] = reason
        if len(self.examples) < 10:
            self.examples.append(
                {"kind": kind, "text": texts[subject][:200], "duplicate_of": texts[other][:200]}
            )

    def report(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "removed": len(self.remove), "examples": self.examples}


def _leak(other_split: str) -> str:
    return "leakage" if other_split == "train" else "duplicate across splits"


def find_duplicates(
    texts: Sequence[str],
    splits: Sequence[str],
    ids: Sequence[str],
    threshold: float = 0.8,
    allow_leakage: bool = False,
) -> DedupResult:
    """Decide which records to remove; train records are indexed first so they always win."""
    from datasketch import MinHash, MinHashLSH

    result = DedupResult()
    order = sorted(range(len(texts)), key=lambda i: (splits[i] != "train", splits[i], i))
    first_seen: dict[str, int] = {}
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    for i in order:
        key = hashlib.sha1(normalize(texts[i]).encode()).hexdigest()
        split = splits[i]
        first = first_seen.get(key)
        if first is not None and splits[first] == split:
            reason = f"duplicate: exact duplicate of {ids[first]} ({split})"
            result.note("exact_within_split", i, first, texts, reason)
            continue
        if first is not None and not allow_leakage:
            reason = f"{_leak(splits[first])}: exact duplicate of {splits[first]} record {ids[first]}"
            result.note("exact_across_splits", i, first, texts, reason)
            continue
        first_seen.setdefault(key, i)
        signature = MinHash(num_perm=NUM_PERM, seed=1)
        signature.update_batch(list(shingles(texts[i])))
        matches = sorted(int(m) for m in lsh.query(signature))
        other = next((m for m in matches if splits[m] != split), None)
        if other is not None and not allow_leakage:
            reason = f"{_leak(splits[other])}: near duplicate of {splits[other]} record {ids[other]}"
            result.note("near_across_splits", i, other, texts, reason)
            continue
        same = next((m for m in matches if splits[m] == split), None)
        if same is not None:
            result.note("near_within_split", i, same, texts, None)  # reported, kept
        lsh.insert(str(i), signature)
    return result

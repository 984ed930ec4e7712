"""Exact and near duplicates, inside a split and across splits (leakage), in bounded memory.

Exact: equal after normalization (case, spaces and punctuation ignored). Near: MinHash over
character 3-grams (works for Chinese and English alike), banded LSH, and every candidate pair
verified by its true Jaccard similarity.
Policy: a later exact duplicate inside a split is removed; near duplicates inside a split are
reported; a record that (nearly) duplicates one in another split is removed from the later
split (train is kept first, so a test record repeating a training record is leakage), unless
the recipe allows it. Removed records go to the quarantine with the id they repeat.

Memory: one 8-byte key and 48 bytes of candidate references per record, plus one band's hashes
at a time (the others wait on disk). datasketch's MinHashLSH, measured on the same 5,000 texts,
held ~2.8 KB of Python objects per record and hashed at 1.0 MB/s against 5.2 MB/s here: hence
numpy written for the purpose. One-permutation hashing and a word table over the batch then took
`hash_texts` from 5.6 to 21.7 MB/s (the prepare benchmark's customer-service texts).
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import unicodedata
from array import array
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.threads import usable_cores

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
NUM_PERM = 96
BANDS = 16  # 16 bands of 6 rows: a pair at Jaccard 0.8 is a candidate with p=0.992, at 0.85 p=0.9998;
# at 0.5 only p=0.22 (candidates are verified by their true Jaccard, so these cost time, not errors)
BATCH = 2048
# A candidate is checked on its texts only when its sketch estimate reaches threshold - MARGIN:
# with 48 minima the estimate's spread at Jaccard 0.8 is 0.058, so 0.15 is 2.6 spreads.
SKETCH, MARGIN = 48, 0.15
PAIR_CHUNK = 200_000
_RANK = {"train": 0, "validation": 1, "test": 2}
_NAMES = {**{rank: name for name, rank in _RANK.items()}, -1: "removed"}
_rng = np.random.default_rng(20240611)
_BAND_MIX = _rng.integers(1, 2**63, NUM_PERM // BANDS, dtype=np.uint64) | np.uint64(1)
_GRAM = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))
_FMIX = (np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53))
_PROBE = np.stack([_rng.permutation(NUM_PERM) for _ in range(NUM_PERM)])  # each bin's probe order
_EMPTY = np.uint64(2**64 - 1)  # above every bin value (they are 32-bit)


def _like_a_space(char: str) -> bool:
    """Neither cased nor case-ignorable, as a space: lower() turns a final Σ into ς by what is
    around it, so only such characters may stand in for each other."""
    return ("AΣ" + char + "B").lower()[1] == "ς" and ("A" + char + "Σ").lower()[-1] == "σ"


def _inert_punctuation() -> str:
    """Full-width, CJK and general punctuation that `normalize` removes whatever NFKC makes of it,
    that never composes or reorders with its neighbours (a starter; no combining part), and that
    lowercasing treats as a space."""
    blocks = ((0x2000, 0x2070), (0x3000, 0x3040), (0xFF00, 0xFFF0))
    chars = []
    for char in (chr(code) for low, high in blocks for code in range(low, high)):
        normal = unicodedata.normalize("NFKC", char)
        if (
            _NOT_WORD.fullmatch(char)
            and _NOT_WORD.fullmatch(normal)
            and not any(unicodedata.combining(part) for part in unicodedata.normalize("NFKD", char))
            and all(_like_a_space(part) for part in normal)
        ):
            chars.append(char)
    return "".join(chars)


INERT_PUNCTUATION = _inert_punctuation()
_INERT = re.compile("[" + re.escape(INERT_PUNCTUATION) + "]")


def normalize(text: str) -> str:
    """Case, spacing and punctuation dropped, NFKC applied (full-width letters match ASCII ones).

    The inert punctuation becomes a space first: the same result (both are removed, and a space
    is a boundary NFKC never composes across), but text the cleaning step already normalized then
    passes NFKC's quick check instead of being decomposed and recomposed (~40% faster)."""
    return _NOT_WORD.sub("", _nfkc_lower(text))


def _nfkc_lower(text: str) -> str:
    """`normalize` before the non-word characters are dropped."""
    return unicodedata.normalize("NFKC", _INERT.sub(" ", text)).lower()


def shingles(text: str, size: int = 3) -> set[str]:
    norm = normalize(text)
    if len(norm) <= size:
        return {norm}
    return {norm[i : i + size] for i in range(len(norm) - size + 1)}


def gram_hashes(text: str) -> np.ndarray:
    """64-bit hashes of the normalized text's character 3-grams (one gram for shorter texts)."""
    return _batch_gram_hashes(*_normalized_points([text]))[0]


@dataclass
class TextHashes:
    """What the duplicate search keeps of a batch of texts: exact keys, LSH band hashes and
    sketches (computed where the texts are, in a worker process; the texts are not needed again
    until a candidate pair is verified)."""

    keys: np.ndarray  # (n,) uint64
    bands: np.ndarray  # (n, BANDS) uint64
    sketch: np.ndarray  # (n, SKETCH) uint8


def hash_texts(texts: Sequence[str]) -> TextHashes:
    """Normalize the texts once, for both their exact keys and their MinHash signatures."""
    points, sizes = _normalized_points(texts)
    data = memoryview(points.tobytes())
    ends = np.cumsum(sizes * 4).tolist()
    keys = np.fromiter(
        (_digest(data[start:end]) for start, end in zip([0, *ends[:-1]], ends, strict=True)),
        dtype=np.uint64,
        count=len(sizes),
    )
    bands, sketch = _signatures(points, sizes)
    return TextHashes(keys, bands, sketch)


def _digest(data: memoryview) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def _normalized_points(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """What `normalize` makes of each text, as code points of all the texts in one array, and
    each text's length. The word characters are picked with a table over the whole batch
    instead of a regex per text (the same characters: str.isalnum, as the regex's \\w)."""
    lowered = [_nfkc_lower(text) for text in texts]
    lengths = np.fromiter(map(len, lowered), dtype=np.int64, count=len(lowered))
    encoded = "".join(lowered).encode("utf-32-le", "surrogatepass")
    points = np.frombuffer(encoded, dtype=np.uint32)
    keep = _is_word(points)
    owner = np.repeat(np.arange(len(lowered)), lengths)[keep]
    return points[keep], np.bincount(owner, minlength=len(lowered))


@cache
def _word_table() -> np.ndarray:
    """For every code point of the Basic Multilingual Plane, whether `normalize` keeps it."""
    return np.fromiter((chr(code).isalnum() for code in range(0x10000)), dtype=bool, count=0x10000)


def _is_word(points: np.ndarray) -> np.ndarray:
    keep = _word_table()[np.minimum(points, 0xFFFF)]
    astral = np.flatnonzero(points > 0xFFFF)  # emoji and rare ideographs: looked up one by one
    keep[astral] = [chr(code).isalnum() for code in points[astral].tolist()]
    return keep


def _batch_gram_hashes(points: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 3-gram hashes of every text in `points` (texts of `sizes` code points; one shorter than
    3 is padded with zeros to one gram): (hashes, the text each belongs to)."""
    short = np.flatnonzero(sizes < 3)
    if len(short):
        ends = np.cumsum(sizes)[short]
        points = np.insert(points, np.repeat(ends, 3 - sizes[short]), 0)
        sizes = np.maximum(sizes, 3)
    wide = points.astype(np.uint64)
    grams = wide[:-2] * _GRAM[0] ^ wide[1:-1] * _GRAM[1] ^ wide[2:] * _GRAM[2]
    inside = np.ones(len(grams), dtype=bool)
    ends = np.cumsum(sizes)[:-1]  # a gram starting in a text's last two characters spans two texts
    inside[ends - 2] = inside[ends - 1] = False
    return grams[inside], np.repeat(np.arange(len(sizes)), sizes - 2)


def _signatures(points: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures of normalized texts (`_normalized_points`): (n, BANDS) uint64 band
    hashes, and a (n, SKETCH) uint8 sketch (the low byte of the first SKETCH minima) that
    estimates the Jaccard similarity of a pair without its texts (a byte raises the estimate by
    (1 - J) / 256 at most: negligible, at a sixth of the memory of the full minima).

    One-permutation hashing with optimal densification (Shrivastava 2017): each gram is hashed
    once and lands in one of NUM_PERM bins, a bin keeps its smallest hash, and an empty bin takes
    the value of the first filled bin in its fixed probe order. Two texts still agree in a bin with
    probability equal to their Jaccard similarity, as with NUM_PERM permutations, at 1/NUM_PERM of
    the hashing (measured: the same recall at Jaccard >= 0.8, 4x faster).
    """
    count = len(sizes)
    if not count:
        return np.zeros((0, BANDS), dtype=np.uint64), np.zeros((0, SKETCH), dtype=np.uint8)
    grams, owner = _batch_gram_hashes(points, sizes)
    mixed = _mix64(grams)
    bins = ((mixed >> np.uint64(32)) * np.uint64(NUM_PERM)) >> np.uint64(32)
    signature = np.full(count * NUM_PERM, _EMPTY, dtype=np.uint64)
    np.minimum.at(signature, owner * NUM_PERM + bins.astype(np.int64), mixed & np.uint64(0xFFFFFFFF))
    _densify(signature)
    signature = signature.reshape(count, NUM_PERM)
    rows = signature.reshape(count, BANDS, NUM_PERM // BANDS)
    sketch = (signature[:, :SKETCH] & np.uint64(0xFF)).astype(np.uint8)
    return (rows * _BAND_MIX[None, None, :]).sum(axis=2, dtype=np.uint64), sketch


def _mix64(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer: every output bit depends on every input bit."""
    mixed = values.copy()
    for multiplier in _FMIX:
        mixed ^= mixed >> np.uint64(33)
        mixed *= multiplier
    mixed ^= mixed >> np.uint64(33)
    return mixed


def _densify(signature: np.ndarray) -> None:
    """Fill the empty bins of flat (n * NUM_PERM) signatures in place, each from the first filled
    bin of the same text in its probe order (all holes take one probe step at a time)."""
    empty = signature == _EMPTY
    holes = np.flatnonzero(empty)
    texts, bins = np.divmod(holes, NUM_PERM)
    row_start = texts * NUM_PERM
    filled_at, values = [], []
    for step in range(NUM_PERM):  # a text has at least one gram, so every hole is filled in time
        if not len(holes):
            break
        source = row_start + _PROBE[bins, step]
        found = ~empty[source]
        filled_at.append(holes[found])
        values.append(signature[source[found]])
        holes, row_start, bins = holes[~found], row_start[~found], bins[~found]
    if filled_at:
        signature[np.concatenate(filled_at)] = np.concatenate(values)


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


class _SplitNames:
    def __init__(self, rank: np.ndarray) -> None:
        self.rank = rank

    def __getitem__(self, position: int) -> str:
        return _NAMES[int(self.rank[position])]


def _leak(other_split: str) -> str:
    return "leakage" if other_split == "train" else "duplicate across splits"


def _ranks(splits: Sequence[str] | np.ndarray) -> np.ndarray:
    if isinstance(splits, np.ndarray):
        return splits.astype(np.int8)
    return np.fromiter((_RANK.get(s, -1) for s in splits), dtype=np.int8, count=len(splits))


class DedupIndex:
    """Exact keys and LSH band hashes of texts added in order (a stream): 8 bytes a record in
    memory, the band hashes on disk in `folder` until `resolve`."""

    def __init__(self, folder: Path) -> None:
        self.keys = array("Q")
        self.band_files = [folder / f"band{b}.u64" for b in range(BANDS)]
        self._handles = [path.open("wb") for path in self.band_files]
        self._buffer: list[str] = []
        self._sketches: list[np.ndarray] = []

    def add(self, text: str) -> None:
        self._buffer.append(text)
        if len(self._buffer) >= BATCH:
            self._flush()

    def add_hashed(self, hashes: TextHashes) -> None:
        """Add texts hashed elsewhere (`hash_texts`), after those added before."""
        self._flush()
        self.keys.frombytes(hashes.keys.astype(np.uint64).tobytes())
        self._sketches.append(hashes.sketch)
        for b, handle in enumerate(self._handles):
            handle.write(np.ascontiguousarray(hashes.bands[:, b]).tobytes())

    def _flush(self) -> None:
        if self._buffer:
            buffered, self._buffer = self._buffer, []
            self.add_hashed(hash_texts(buffered))

    def close(self) -> None:
        self._flush()
        for handle in self._handles:
            handle.close()

    def resolve(
        self,
        splits: Sequence[str] | np.ndarray,
        texts: Sequence[str],
        ids: Sequence[str],
        threshold: float = 0.8,
        allow_leakage: bool = False,
        workers: int = 1,
    ) -> DedupResult:
        """Decide which records to remove; train records come first so they always win.

        `splits` holds names or codes (0 train, 1 validation, 2 test, -1 not taking part); `texts`
        and `ids` may be lazy sequences: they are read by index, only for candidates and removals.
        """
        self.close()
        result = DedupResult()
        rank = _ranks(splits)
        names = _SplitNames(rank)
        keys = np.frombuffer(self.keys, dtype=np.uint64)
        alive = _exact(keys, rank, names, ids, texts, allow_leakage, result)
        refs = _candidates(self.band_files, rank, alive)
        sketch = np.concatenate(self._sketches) if self._sketches else np.zeros((0, SKETCH), np.uint8)
        self._sketches = []
        pairs = _likely_pairs(refs, sketch, threshold - MARGIN)
        del refs, sketch  # 68 bytes a record: gone before the texts are read
        _near(
            pairs,
            rank,
            names,
            ids,
            texts,
            threshold,
            allow_leakage,
            result,
            workers,
        )
        return result


def find_duplicates(
    texts: Sequence[str],
    splits: Sequence[str] | np.ndarray,
    ids: Sequence[str],
    threshold: float = 0.8,
    allow_leakage: bool = False,
) -> DedupResult:
    """`DedupIndex` over texts already in memory."""
    with tempfile.TemporaryDirectory() as folder:
        index = DedupIndex(Path(folder))
        for text in texts:
            index.add(text)
        return index.resolve(splits, texts, ids, threshold, allow_leakage)


def _exact(
    keys: np.ndarray,
    rank: np.ndarray,
    splits: Sequence[str],
    ids: Sequence[str],
    texts: Sequence[str],
    allow_leakage: bool,
    result: DedupResult,
) -> np.ndarray:
    """Remove exact duplicates; return the mask of records that take part in the near search."""
    n = len(keys)
    positions = np.arange(n)
    order = np.lexsort((positions, rank, keys))
    sorted_keys, sorted_rank = keys[order], rank[order]
    new_key = np.ones(n, dtype=bool)
    new_key[1:] = sorted_keys[1:] != sorted_keys[:-1]
    new_split = new_key.copy()
    new_split[1:] |= sorted_rank[1:] != sorted_rank[:-1]
    group_first = order[np.maximum.accumulate(np.where(new_key, np.arange(n), 0))]
    split_first = order[np.maximum.accumulate(np.where(new_split, np.arange(n), 0))]
    alive = rank >= 0
    for slot in np.flatnonzero(~new_key & (sorted_rank >= 0)):
        subject = int(order[slot])
        if not new_split[slot]:
            first = int(split_first[slot])
            reason = f"duplicate: exact duplicate of {ids[first]} ({splits[first]})"
            result.note("exact_within_split", subject, first, texts, reason)
            alive[subject] = False
        elif not allow_leakage:
            first = int(group_first[slot])
            reason = f"{_leak(splits[first])}: exact duplicate of {splits[first]} record {ids[first]}"
            result.note("exact_across_splits", subject, first, texts, reason)
            alive[subject] = False
    return alive


def _candidates(band_files: list[Path], rank: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """(n, BANDS) int32: per band, the first record (train first, then by position) of the bucket
    this record shares, or -1. Comparing with the bucket's first record is enough to find a
    repeat of anything earlier, and costs 4 bytes a record and band. The bands are sorted on
    every core (numpy sorts without holding the GIL)."""
    members = np.flatnonzero(alive)
    members = members[np.lexsort((members, rank[members]))]  # train first, then by position
    refs = np.full((len(rank), len(band_files)), -1, dtype=np.int32)

    def band(b: int) -> None:
        hashes = np.fromfile(band_files[b], dtype=np.uint64)[members]
        order = np.argsort(hashes)
        sorted_hashes = hashes[order]
        head = np.ones(len(order), dtype=bool)
        head[1:] = sorted_hashes[1:] != sorted_hashes[:-1]
        starts = np.flatnonzero(head)
        # a bucket's first record: the smallest place in `members` among the bucket's
        first = np.minimum.reduceat(order, starts) if len(starts) else order
        bucket_first = np.repeat(first, np.diff(np.append(starts, len(order))))
        later = order != bucket_first
        refs[members[order[later]], b] = members[bucket_first[later]]

    with ThreadPoolExecutor(min(usable_cores(), len(band_files)) or 1) as pool:
        list(pool.map(band, range(len(band_files))))
    return refs


Pairs = tuple[np.ndarray, np.ndarray]  # (later, earlier) int64, sorted by later then earlier


def _likely_pairs(refs: np.ndarray, sketch: np.ndarray, floor: float) -> Pairs:
    """(later record, an earlier candidate) pairs whose sketch estimate reaches `floor`
    (vectorized, so the exact check below runs only where a near duplicate is plausible; chunks of
    records on every core, merged in order). Two arrays, not a dict of lists: 16 bytes a pair."""
    subjects = np.flatnonzero((refs >= 0).any(axis=1))
    step = PAIR_CHUNK // BANDS

    def likely(start: int) -> Pairs:
        chunk = subjects[start : start + step]
        later = np.repeat(chunk.astype(np.int64), refs.shape[1])
        earlier = refs[chunk].ravel().astype(np.int64)
        keep = earlier >= 0
        pairs = np.unique(later[keep] * len(refs) + earlier[keep])  # one number a pair: a 1-D unique
        later, earlier = np.divmod(pairs, len(refs))
        close = (sketch[later] == sketch[earlier]).mean(axis=1) >= floor
        return later[close], earlier[close]

    with ThreadPoolExecutor(usable_cores()) as pool:
        found = list(pool.map(likely, range(0, len(subjects), step)))
    if not found:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])


def _near(
    pairs: Pairs,
    rank: np.ndarray,
    splits: _SplitNames,
    ids: Sequence[str],
    texts: Sequence[str],
    threshold: float,
    allow_leakage: bool,
    result: DedupResult,
    workers: int = 1,
) -> None:
    """Verify candidates by true Jaccard, in canonical order; remove leaks, report the rest. The
    Jaccard of every candidate pair is computed first, on `workers` processes (a pure function of
    two texts); the decisions, which depend on what was removed before, stay in one pass."""
    removed: set[int] = set()
    close = similar_pairs(pairs, texts, threshold, workers)
    count = len(texts)

    def similar(a: int, b: int) -> bool:
        key = a * count + b
        at = int(np.searchsorted(close, key))
        return at < len(close) and int(close[at]) == key

    laters, starts = np.unique(pairs[0], return_index=True)
    ends = np.append(starts[1:], len(pairs[0]))
    for at in np.lexsort((laters, rank[laters])).tolist():  # by split (train first), then position
        later = int(laters[at])
        candidates = pairs[1][starts[at] : ends[at]].tolist()
        earlier = sorted(set(candidates) - removed, key=lambda i: (int(rank[i]), i))
        across = [r for r in earlier if rank[r] != rank[later]]
        within = [r for r in earlier if rank[r] == rank[later]]
        if not allow_leakage:
            match = next((r for r in across if similar(later, r)), None)
            if match is not None:
                reason = f"{_leak(splits[match])}: near duplicate of {splits[match]} record {ids[match]}"
                result.note("near_across_splits", later, match, texts, reason)
                removed.add(later)
                continue
        match = next((r for r in within if similar(later, r)), None)
        if match is not None:
            result.note("near_within_split", later, match, texts, None)  # reported, kept


PAIRS_PER_TASK = 10_000  # later records whose candidates one task verifies (bounds its memory)
_TEXTS: Sequence[str] | None = None  # in a worker process: the texts, handed over at the fork


def similar_pairs(
    pairs: Pairs,
    texts: Sequence[str],
    threshold: float,
    workers: int = 1,
    per_task: int = PAIRS_PER_TASK,
) -> np.ndarray:
    """The (later, earlier) candidate pairs (sorted by later) whose 3-gram Jaccard reaches
    `threshold`, each as `later * len(texts) + earlier`, sorted (8 bytes a pair). Tasks of
    `per_task` later records each read and hash their texts in one batch; with `workers` > 1 they
    run in forked processes (which inherit `texts`, a lazy column of the pool on disk), a few
    tasks in flight at a time."""
    later, earlier = pairs
    _, starts = np.unique(later, return_index=True)
    bounds = [*starts[::per_task].tolist(), len(later)]
    tasks = ((later[lo:hi], earlier[lo:hi], len(texts), threshold) for lo, hi in pairwise(bounds))
    if workers <= 1 or len(bounds) <= 2:
        found = [_verify(*task[:2], texts, *task[2:]) for task in tasks]
    else:
        from tunesmith.parallel import forked_map

        with forked_map(_verify_in_worker, workers, _hand_texts, (texts,)) as run:
            found = list(run(tasks))
    return np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


def _hand_texts(texts: Sequence[str]) -> None:
    global _TEXTS
    _TEXTS = texts


def _verify_in_worker(task: tuple[np.ndarray, np.ndarray, int, float]) -> np.ndarray:
    assert _TEXTS is not None, "forked_map hands the texts to each worker first"
    later, earlier, count, threshold = task
    return _verify(later, earlier, _TEXTS, count, threshold)


def _verify(
    later: np.ndarray, earlier: np.ndarray, texts: Sequence[str], count: int, threshold: float
) -> np.ndarray:
    """The pairs (`later[i]`, `earlier[i]`) that are near duplicates, as `later * count +
    earlier`: each text read once, in position order, its distinct 3-gram hashes computed in
    batches."""
    positions = np.unique(np.concatenate([later, earlier])).tolist()
    grams: dict[int, np.ndarray] = {}
    for start in range(0, len(positions), BATCH):
        chunk = positions[start : start + BATCH]
        hashes, owner = _batch_gram_hashes(*_normalized_points([texts[p] for p in chunk]))
        bounds = np.searchsorted(owner, np.arange(len(chunk) + 1))
        for i, position in enumerate(chunk):
            grams[position] = np.unique(hashes[bounds[i] : bounds[i + 1]])
    found = []
    for a, b in zip(later.tolist(), earlier.tolist(), strict=True):
        first, second = grams[a], grams[b]
        shared = len(np.intersect1d(first, second, assume_unique=True))
        if shared >= threshold * (len(first) + len(second) - shared):
            found.append(a * count + b)
    return np.asarray(found, dtype=np.int64)

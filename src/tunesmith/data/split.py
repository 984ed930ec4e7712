"""Deterministic, seeded train/validation/test assignment, stratified by label.

Written by hand because scikit-learn's stratified splitters refuse classes with a single
member and test sets smaller than the number of classes; here a rare label stays in train and
the overall ratios still hold (remainders carry over from one label to the next).
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter, defaultdict
from collections.abc import Sequence

SPLITS = ("train", "validation", "test")
_SPLIT_NAMES = {
    "train": "train",
    "training": "train",
    "trn": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "dev": "validation",
    "test": "test",
    "testing": "test",
    "tst": "test",
    "eval": "test",
}


def normalize_split_name(value: object) -> str:
    name = _SPLIT_NAMES.get(str(value).strip().lower())
    if name is None:
        raise ValueError(f"unknown split value {value!r} (use train, validation or test)")
    return name


def assign_splits(
    keys: Sequence[str],
    validation: float,
    test: float,
    seed: int,
    stratify: bool = True,
    want: tuple[bool, bool] = (True, True),
) -> list[str]:
    """Return a split name for each position of `keys` (the stratification key per record).

    `want` says whether the validation and test splits are to be carved out at all.
    Every label keeps at least one record in train.
    """
    rng = random.Random(seed)
    groups: dict[str, list[int]] = defaultdict(list)
    for position, key in enumerate(keys):
        groups[key if stratify else ""].append(position)
    order = sorted(groups)
    rng.shuffle(order)
    ratios = (validation if want[0] else 0.0, test if want[1] else 0.0)
    carry = [rng.random(), rng.random()]
    result = ["train"] * len(keys)
    for key in order:
        members = groups[key]
        rng.shuffle(members)
        counts = []
        for k in range(2):
            carry[k] += len(members) * ratios[k]
            counts.append(int(carry[k]))
            carry[k] -= counts[k]
        while counts[0] + counts[1] > len(members) - 1 and (counts[0] or counts[1]):
            k = 0 if counts[0] >= counts[1] and counts[0] else 1
            counts[k] -= 1
            carry[k] += 1
        for position in members[: counts[0]]:
            result[position] = "validation"
        for position in members[counts[0] : counts[0] + counts[1]]:
            result[position] = "test"
    return result


def _cut(position: float, validation: float, test: float, want: tuple[bool, bool]) -> str:
    """Map a position in [0, 1) to a split: the first part train, then validation, then test."""
    test = test if want[1] else 0.0
    validation = validation if want[0] else 0.0
    if position >= 1.0 - test:
        return "test"
    if position >= 1.0 - test - validation:
        return "validation"
    return "train"


def hash_position(key: str, seed: int) -> float:
    """A stable pseudo-random position in [0, 1) for `key`."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_by_hash(
    keys: Sequence[str], validation: float, test: float, seed: int, want: tuple[bool, bool] = (True, True)
) -> list[str]:
    """Each record's split depends on its own key only: adding records moves none of the others."""
    return [_cut(hash_position(k, seed), validation, test, want) for k in keys]


def assign_by_group(
    groups: Sequence[str],
    validation: float,
    test: float,
    seed: int,
    want: tuple[bool, bool] = (True, True),
    labels: Sequence[Sequence[str]] | None = None,
) -> list[str]:
    """Whole groups go to one split. With `labels` (each record's label names), groups are placed
    so that every label reaches every split where the data allows it (`stratified_groups`);
    without, groups are shuffled and filled in until the ratios hold. With few large groups (ten
    documents, say) one group can swallow a small split's share; then the group of the split with
    the most groups nearest in size to that share moves over, so no wanted split is left empty."""
    sizes: dict[str, int] = defaultdict(int)
    for group in groups:
        sizes[group] += 1
    order = sorted(sizes)
    random.Random(seed).shuffle(order)
    total = len(groups)
    if labels is not None:
        chosen = stratified_groups(groups, labels, validation, test, seed, want)
    else:
        placed = 0
        chosen = {}
        for group in order:
            # place a group by the position of its middle record, so ratios hold on average
            chosen[group] = _cut((placed + sizes[group] / 2) / total, validation, test, want)
            placed += sizes[group]
    shares = (("validation", validation, want[0]), ("test", test, want[1]))
    wanted = {name: share for name, share, on in shares if on and share > 0}
    for name, share in wanted.items():
        members = Counter(chosen.values())
        if members[name] or len(order) < 1 + len(wanted):
            continue
        donor = max((s for s in members if members[s] > 1), key=lambda s: members[s], default=None)
        if donor is not None:
            # the donor's group nearest in size to the split's share (ties: the first in order)
            _, _, nearest = min(
                (abs(sizes[g] - share * total), i, g) for i, g in enumerate(order) if chosen[g] == donor
            )
            chosen[nearest] = name
    return [chosen[g] for g in groups]


def stratified_groups(
    groups: Sequence[str],
    labels: Sequence[Sequence[str]],
    validation: float,
    test: float,
    seed: int,
    want: tuple[bool, bool] = (True, True),
) -> dict[str, str]:
    """Group -> split by iterative stratification (Sechidis, Tsoumakas and Vlahavas 2011) over
    groups, coverage first: the label held by the fewest records still unplaced goes first; when
    its groups are at least as many as the splits that lack it, each lacking validation or test
    split gets one of its smallest groups; then each remaining group goes to the split that still
    wants most of that label (ties: most records still wanted, then a seeded draw), and every
    split's wants shrink by what the group brings. A label held by three groups or more thus
    reaches train, validation and test, without handing a held-out split a large group. Written
    by hand: scikit-learn and scikit-multilearn stratify records, not groups (StratifiedGroupKFold
    takes one label per record and makes folds, not ratios)."""
    shares = {
        "validation": validation if want[0] else 0.0,
        "test": test if want[1] else 0.0,
    }
    shares["train"] = 1.0 - shares["validation"] - shares["test"]
    sizes: Counter[str] = Counter(groups)
    held: dict[str, Counter[str]] = defaultdict(Counter)
    for group, names in zip(groups, labels, strict=True):
        held[group].update(names)
    label_totals: Counter[str] = Counter()
    for counts in held.values():
        label_totals.update(counts)
    want_records = {split: share * len(groups) for split, share in shares.items()}
    want_label = {split: {k: share * n for k, n in label_totals.items()} for split, share in shares.items()}
    placed: dict[str, Counter[str]] = {split: Counter() for split in shares}
    rng = random.Random(seed)
    tiebreak = {split: rng.random() for split in shares}
    chosen: dict[str, str] = {}
    left = set(sizes)

    def put(group: str, split: str) -> None:
        chosen[group] = split
        left.discard(group)
        want_records[split] -= sizes[group]
        placed[split].update(held[group])
        for name, count in held[group].items():
            want_label[split][name] -= count

    def wish(split: str, label: str | None) -> tuple[float, float, float]:
        if shares[split] == 0:
            return (float("-inf"), float("-inf"), 0.0)
        first = want_label[split][label] if label is not None else want_records[split]
        return (first, want_records[split], tiebreak[split])

    remaining = Counter(label_totals)  # each label's records in groups not placed yet
    while +remaining:
        label = min(+remaining, key=lambda name: (remaining[name], name))
        holders = sorted(g for g in left if held[g][label])
        rng.shuffle(holders)
        holders.sort(key=lambda g: -held[g][label])  # largest first; the seeded order breaks ties
        lacking = [s for s in ("validation", "test") if shares[s] > 0 and not placed[s][label]]
        lacking.sort(key=lambda s: shares[s])
        if not placed["train"][label]:
            lacking.append("train")
        if len(holders) >= len(lacking):
            for split in lacking:
                if split != "train":  # train takes its part by wish below: it wants the most
                    group = holders.pop()  # the smallest holder left
                    put(group, split)
                    remaining.subtract(held[group])
        for group in holders:
            put(group, max(shares, key=lambda s: wish(s, label)))
            remaining.subtract(held[group])
    for group in sorted(left):  # groups without labels: wherever records are still wanted
        put(group, max(shares, key=lambda s: wish(s, None)))
    return chosen


def assign_by_time(
    times: Sequence[float], validation: float, test: float, want: tuple[bool, bool] = (True, True)
) -> list[str]:
    """Earliest records train, then validation, latest test; equal times never straddle a cut."""
    order = sorted(range(len(times)), key=lambda i: times[i])
    result = [""] * len(times)
    total = len(times)
    for rank, i in enumerate(order):
        result[i] = _cut(rank / total, validation, test, want)
    # records with the same time as the first record of a later split join that later split
    for later in ("test", "validation"):
        cut_times = [times[i] for i in range(total) if result[i] == later]
        if cut_times:
            first = min(cut_times)
            for i in range(total):
                if times[i] == first and result[i] != "test":
                    result[i] = later
    return result

"""Deterministic, seeded train/validation/test assignment, stratified by label.

Written by hand because scikit-learn's stratified splitters refuse classes with a single
member and test sets smaller than the number of classes; here a rare label stays in train and
the overall ratios still hold (remainders carry over from one label to the next).
"""

from __future__ import annotations

import random
from collections import defaultdict
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

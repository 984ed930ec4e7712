"""Oversampling: repeat training examples of rare labels (seeded) so none falls below a share of
the most common label's count. The validation and test splits are never touched."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence


def oversampled_indices(label_ids: Sequence[int], fraction: float, seed: int) -> list[int]:
    """Every index once, plus repeats of each rare label's examples up to
    ceil(fraction x the largest label count): whole copies first, then a seeded sample."""
    members: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(label_ids):
        members[label].append(index)
    if not members:
        return []
    target = math.ceil(fraction * max(len(m) for m in members.values()))
    rng = random.Random(seed)
    indices = list(range(len(label_ids)))
    for label in sorted(members):
        group = members[label]
        short = target - len(group)
        if short <= 0:
            continue
        copies, rest = divmod(short, len(group))
        indices.extend(group * copies)
        indices.extend(rng.sample(group, rest))
    return indices

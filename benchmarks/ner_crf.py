"""Would a character CRF help token classification beside the transformer? A linear-chain CRF
(sklearn-crfsuite; not a dependency of tunesmith: `pip install sklearn-crfsuite` beside it) on a
run's prepared splits: BIO tags per character, the character, its neighbours two either side and
the bigrams around it as features; L1/L2 strength chosen on validation;
entity F1 (seqeval, exact spans) on test.

    python benchmarks/ner_crf.py RUN_DIR     # a run prepared by `tunesmith init FILE && tunesmith prepare`
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from tunesmith.tasks.entity_spans import char_tags

SETTINGS = [(0.05, 0.01), (0.1, 0.1), (0.0, 0.3)]  # (c1, c2): L1 and L2 strength


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def bio(record: dict[str, Any]) -> list[str]:
    """The record's character spans [start, end, type] as one BIO tag per character."""
    return char_tags(len(record["text"]), record["label"])


def features(text: str) -> list[dict[str, Any]]:
    def at(i: int) -> str:
        return text[i] if 0 <= i < len(text) else "#"

    return [
        {
            "bias": 1.0,
            "c": c,
            **{f"c{d}": at(i + d) for d in (-2, -1, 1, 2)},
            "b-1": at(i - 1) + c,
            "b0": c + at(i + 1),
            "digit": c.isdigit(),
        }
        for i, c in enumerate(text)
    ]


def main() -> None:
    import sklearn_crfsuite
    from seqeval.metrics import f1_score

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", type=Path)
    args = parser.parse_args()
    train, validation, test = (
        _read(args.run / "data" / f"{s}.jsonl") for s in ("train", "validation", "test")
    )
    best: tuple[float, Any, tuple[float, float]] | None = None
    for c1, c2 in SETTINGS:
        started = time.perf_counter()
        crf = sklearn_crfsuite.CRF(
            algorithm="lbfgs", c1=c1, c2=c2, max_iterations=150, all_possible_transitions=True
        )
        crf.fit([features(r["text"]) for r in train], [bio(r) for r in train])
        seconds = time.perf_counter() - started
        found = f1_score([bio(r) for r in validation], crf.predict([features(r["text"]) for r in validation]))
        print(f"c1={c1} c2={c2}: validation entity F1 {found:.3f}, fitted in {seconds:.0f} s", flush=True)
        if best is None or found > best[0]:
            best = (found, crf, (c1, c2))
    assert best is not None
    _, crf, (c1, c2) = best
    scored = f1_score([bio(r) for r in test], crf.predict([features(r["text"]) for r in test]))
    print(f"chosen c1={c1} c2={c2}: test entity F1 {scored:.3f} on {len(test)} sentences")


if __name__ == "__main__":
    main()

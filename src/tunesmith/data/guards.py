"""Checks between prepare and train: stop a run whose splits cannot judge a model.

A validation or test split that duplicate and leakage removal cut to a few records, a split that
lost most of its records as duplicates, or a label that training has plenty of but validation
lacks would let a run "succeed" with figures that mean nothing (MuZhi's ids as text: 57
validation records cut to 1). Each problem comes with its figures and the likely cause; `--force`
trains anyway.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tunesmith.data.split import SPLITS
from tunesmith.errors import DataError

FEW = 10  # a validation or test split cut below this many records cannot rank models
MOST = 0.5  # a split that lost more than this share of its records to duplicate removal
EXPECTED = 3  # a label expected this many times in validation (by its training share) but absent


class SplitsUnusable(DataError):
    """The prepared splits cannot train or judge a model (see `split_problems`)."""


def split_problems(report: dict[str, Any], categorical: bool) -> list[str]:
    """What is wrong with the prepared splits of `data/report.json`, one line each."""
    problems = []
    counts = report["split_counts"]
    removed = report.get("duplicates", {}).get("removed_by_split", {})
    for split in SPLITS:
        after, cut = counts.get(split, 0), removed.get(split, 0)
        before = after + cut
        if not cut:
            continue
        if split != "train" and before >= FEW and after < FEW:
            problems.append(
                f"duplicate and leakage removal cut the {split} split from {before:,} records to {after:,}"
            )
        elif cut > MOST * before:
            problems.append(
                f"the {split} split lost {cut:,} of its {before:,} records ({cut / before:.0%}) as "
                "duplicates or leakage"
            )
    if categorical and counts.get("validation"):
        train, validation = (
            report["label_counts"].get("train", {}),
            report["label_counts"].get("validation", {}),
        )
        # as split, before duplicates were removed: a label the split was meant to hold
        share = (counts["validation"] + removed.get("validation", 0)) / max(
            counts["train"] + removed.get("train", 0), 1
        )
        missing = [label for label, n in train.items() if n * share >= EXPECTED and not validation.get(label)]
        if missing:
            shown = ", ".join(f"{label} ({train[label]:,} in train)" for label in missing[:5])
            problems.append(f"{len(missing)} label(s) common in train are {MISSING}: {shown}")
    return problems


MISSING = "missing from validation"


def likely_cause(texts: list[str], problems: list[str] | None = None, group_field: str | None = None) -> str:
    """Why the splits went wrong: whole groups that cannot spread a rare label over every split,
    else why records would repeat each other, judged from the training texts."""
    from tunesmith.data.columns import Column, classify

    if group_field and problems and all(MISSING in p for p in problems):
        return (
            f"the split keeps each `{group_field}` whole, and a label that only a few of them hold "
            "cannot reach every split. Bring more groups, or set split.method: stratified if one "
            f"{group_field}'s records may be split (test then holds seen {group_field}s)"
        )

    column = classify(Column("text", 0, list(texts)))
    if column.kind == "id":
        shown = ", ".join(texts[:3])
        return (
            f"the text looks like an id ({shown} ...): ids are near copies of each other. Point "
            "data.text_field (or a text_template) at the fields that describe the record; "
            "`tunesmith init DATA --explain` shows what each field holds"
        )
    if texts and sum(len(t) for t in texts) / len(texts) < 12:
        return "the texts are very short, so many of them are copies of each other; add context to each text"
    return (
        "many records repeat each other (templated texts or a repeated export): check the examples in "
        "data/report.html; prepare.dedup.near_threshold (0.8) sets how close counts as a copy"
    )


def check_splits(run_dir: Path, categorical: bool, force: bool, group_field: str | None = None) -> list[str]:
    """Raise SplitsUnusable with the figures and the likely cause, unless `force` (then the
    problems are returned, for a warning); `group_field`: the split kept its groups whole."""
    data = run_dir / "data"
    report = json.loads((data / "report.json").read_text(encoding="utf-8"))
    problems = split_problems(report, categorical)
    if not problems or force:
        return problems
    texts = []
    with (data / "train.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            texts.append(json.loads(line)["text"])
            if len(texts) >= 500:
                break
    listed = "\n".join(f"  - {p}" for p in problems)
    cause = likely_cause(texts, problems, group_field)
    raise SplitsUnusable(
        f"{data}: these splits cannot judge a model:\n{listed}\nLikely cause: {cause}.\n"
        "Fix the recipe and run again, or pass --force to train anyway."
    )

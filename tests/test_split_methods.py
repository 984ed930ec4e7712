"""Grouped, time-based and hash-stable splits, through prepare."""

from collections import Counter
from pathlib import Path

import pytest
from helpers import faq_records, write_jsonl

from tunesmith import recipe as recipe_io
from tunesmith.data.fields import parse_time
from tunesmith.data.split import assign_by_group, assign_by_hash, assign_by_time
from tunesmith.errors import RecipeError
from tunesmith.prepare.stage import prepare, read_split

SPLIT_NAMES = ("train", "validation", "test")


def _records(n: int) -> list[dict]:
    records = faq_records(n)
    for i, record in enumerate(records):
        record["user_id"] = f"u{i % 37}"
        record["created_at"] = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00"
    return records


def _prepare(tmp_path: Path, records: list[dict], name: str, *overrides: str) -> dict[str, list[dict]]:
    write_jsonl(tmp_path / "d.jsonl", records)
    path = tmp_path / "r.yaml"
    path.write_text("data: {train: d.jsonl, text_field: question, label_field: intent, id_field: id}\n")
    prepare(recipe_io.load(path, ["prepare.dedup.enabled=false", *overrides]), tmp_path / name)
    return {s: read_split(tmp_path / name, s) for s in SPLIT_NAMES}


def test_group_split_keeps_each_user_in_one_split(tmp_path: Path) -> None:
    records = _records(400)
    splits = _prepare(tmp_path, records, "g", "split.method=group", "split.group_field=user_id")
    owner = {r["id"]: r["user_id"] for r in records}
    users = {s: {owner[r["id"]] for r in rows} for s, rows in splits.items()}
    assert not users["train"] & users["test"] and not users["train"] & users["validation"]
    assert not users["validation"] & users["test"]
    assert 20 <= len(splits["test"]) <= 70 and 20 <= len(splits["validation"]) <= 70


def test_time_split_trains_on_the_past(tmp_path: Path) -> None:
    records = _records(300)
    splits = _prepare(tmp_path, records, "t", "split.method=time", "split.time_field=created_at")
    when = {r["id"]: parse_time(r["created_at"]) for r in records}
    latest_train = max(when[r["id"]] for r in splits["train"])
    assert latest_train <= min(when[r["id"]] for r in splits["validation"])
    assert max(when[r["id"]] for r in splits["validation"]) <= min(when[r["id"]] for r in splits["test"])


def test_hash_split_does_not_move_records_when_more_arrive(tmp_path: Path) -> None:
    records = _records(300)
    before = _prepare(tmp_path, records[:200], "h1", "split.method=hash")
    after = _prepare(tmp_path, records, "h2", "split.method=hash")
    where = {r["id"]: s for s, rows in after.items() for r in rows}
    assert all(where[r["id"]] == s for s, rows in before.items() for r in rows)
    assert 10 <= len(after["test"]) <= 55


def test_bad_split_settings_and_values(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="group_field"):
        _prepare(tmp_path, _records(20), "x", "split.method=group")
    with pytest.raises(RecipeError, match="id_field"):
        recipe_io.validate({"data": {"train": "x"}, "split": {"method": "hash"}})
    records = _records(60)
    records[5]["created_at"] = "not a date"
    records[6].pop("created_at")
    _prepare(tmp_path, records, "bad", "split.method=time", "split.time_field=created_at")
    rejected = (tmp_path / "bad" / "data" / "rejected.jsonl").read_text(encoding="utf-8")
    assert rejected.count('"field": "created_at"') == 2


def test_split_functions_directly() -> None:
    keys = [f"id{i}" for i in range(2000)]
    counts = Counter(assign_by_hash(keys, 0.1, 0.2, seed=1))
    assert abs(counts["test"] - 400) < 60 and abs(counts["validation"] - 200) < 50
    assert assign_by_time([5.0, 1.0, 3.0, 3.0, 9.0], 0.0, 0.4) == ["test", "train", "train", "train", "test"]
    # equal times never straddle a cut: all three 3.0 records go where the first of them falls
    assert assign_by_time([1.0, 3.0, 3.0, 3.0, 9.0], 0.0, 0.4) == ["train", "test", "test", "test", "test"]
    groups = ["a"] * 5 + ["b"] * 5 + ["c"] * 90
    result = assign_by_group(groups, 0.1, 0.1, seed=0)
    assert len({s for g, s in zip(groups, result, strict=True) if g == "a"}) == 1
    # ten documents of very different sizes: one large document must not swallow the test share
    sizes = [700, 650, 600, 500, 420, 300, 250, 120, 108, 42]
    documents = [f"doc{i}" for i, size in enumerate(sizes) for _ in range(size)]
    for seed in range(20):
        placed = dict(zip(documents, assign_by_group(documents, 0.1, 0.1, seed=seed), strict=True))
        assert set(placed.values()) == {"train", "validation", "test"}, (seed, Counter(placed.values()))
    assert parse_time("2024-01-01") == parse_time(1704067200) == parse_time("1704067200000")


def test_a_group_split_of_labelled_records_brings_every_label_to_every_split() -> None:
    """Forty documents of clauses, nine categories, a few held by only three or four documents
    (the CLAUDETTE shape): whole documents stay in one split, and a label that at least three
    documents hold reaches train, validation and test; the record shares stay near 80/10/10."""
    import random

    rng = random.Random(7)
    groups: list[str] = []
    labels: list[list[str]] = []
    rare = {"a": {3, 17, 29}, "pinc": {5, 11, 23, 31}}  # each held by a few documents only
    for doc in range(40):
        for _ in range(rng.randrange(150, 500)):
            names = [c for c in ("ltd", "ter", "ch", "use") if rng.random() < 0.03]
            names += [c for c, holders in rare.items() if doc in holders and rng.random() < 0.2]
            groups.append(f"doc{doc}")
            labels.append(names or ["(none)"])
    for seed in range(5):
        splits = assign_by_group(groups, 0.1, 0.1, seed=seed, labels=labels)
        by_doc: dict[str, set[str]] = {}
        per_split: dict[str, Counter[str]] = {s: Counter() for s in ("train", "validation", "test")}
        for group, names, split in zip(groups, labels, splits, strict=True):
            by_doc.setdefault(group, set()).add(split)
            per_split[split].update(names)
        assert all(len(s) == 1 for s in by_doc.values())  # a document is never cut
        for name in ("a", "pinc", "ltd", "ter", "ch", "use"):
            assert all(per_split[s][name] > 0 for s in per_split), (seed, name, per_split)
        shares = Counter(splits)
        assert 0.05 < shares["test"] / len(splits) < 0.2 and 0.05 < shares["validation"] / len(splits) < 0.2
    # shuffled in a seeded way: the same seed places the same documents
    assert assign_by_group(groups, 0.1, 0.1, 3, labels=labels) == assign_by_group(
        groups, 0.1, 0.1, 3, labels=labels
    )

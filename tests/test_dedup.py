"""Exact and near duplicates inside and across splits, through prepare."""

import json
import random
from pathlib import Path

import numpy as np
from helpers import write_jsonl

from tunesmith import recipe as recipe_io
from tunesmith.data.dedup import find_duplicates, normalize, shingles, similar_pairs
from tunesmith.prepare.stage import prepare, read_split


def test_normalize_ignores_case_spacing_and_punctuation() -> None:
    assert normalize("如何 重置密码？") == normalize("如何重置密码!") == "如何重置密码"
    assert normalize("Reset MY password.") == "resetmypassword"


def test_exact_within_split_leakage_and_near_within() -> None:
    texts = [
        "how do I reset my password please",  # 0 train
        "How do I reset my password, please?",  # 1 train: exact duplicate of 0 -> removed
        "my parcel has not arrived after two weeks of waiting",  # 2 train
        "my parcel has not arrived after two weeks of waiting!!",  # 3 test: leakage -> removed
        "my parcel has not arrived after two weeks of waitin",  # 4 test: near leakage -> removed
        "the refund for order one has not reached my bank account",  # 5 test
        "the refund for order one has not reached my bank accounts",  # 6 test: near within: kept
        "completely different question about card activation",  # 7 test
    ]
    splits = ["train", "train", "train", "test", "test", "test", "test", "test"]
    ids = [f"r{i}" for i in range(8)]
    result = find_duplicates(texts, splits, ids)
    assert set(result.remove) == {1, 3, 4}
    assert "r0" in result.remove[1] and "leakage" in result.remove[3] and "r2" in result.remove[4]
    assert result.counts["near_within_split"] == 1
    allowed = find_duplicates(texts, splits, ids, allow_leakage=True)
    assert set(allowed.remove) == {1}


def test_prepare_removes_leaked_records_and_reports_them(tmp_path: Path) -> None:
    rng = random.Random(0)
    vocabulary = [f"w{n}x" for n in range(300)]
    phrases = [" ".join(rng.sample(vocabulary, 8)) for _ in range(60)]  # unrelated texts
    records = [{"id": f"a{i}", "text": p, "label": f"t{i % 3}"} for i, p in enumerate(phrases)]
    records += [{"id": f"b{i}", "text": p.upper() + "?", "label": f"t{i % 3}"} for i, p in enumerate(phrases)]
    write_jsonl(tmp_path / "d.jsonl", records)
    (tmp_path / "r.yaml").write_text(
        "data: {train: d.jsonl, id_field: id}\nsplit: {validation: 0.2, test: 0.2}\n"
    )
    result = prepare(recipe_io.load(tmp_path / "r.yaml"), tmp_path / "run")
    train = {normalize(r["text"]) for r in read_split(tmp_path / "run", "train")}
    for split in ("validation", "test"):
        assert not train & {normalize(r["text"]) for r in read_split(tmp_path / "run", split)}
    full = json.loads((tmp_path / "run" / "data" / "report.json").read_text())
    # 120 lines in the file: a duplicate is read once and rejected once, not counted as two rows
    assert full["rows_read"] == 120 and full["rows_rejected"] == 60
    report = full["duplicates"]
    assert report["removed"] == result.rejected == 60
    assert report["examples"]
    rejected = (tmp_path / "run" / "data" / "rejected.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(rejected) == 60 and all(json.loads(line)["line"] >= 1 for line in rejected)


def test_every_near_duplicate_pair_above_the_threshold_is_caught() -> None:
    rng = random.Random(3)
    alphabet = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    train, test = [], []
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(40, 120)))
        position = rng.randrange(len(text))
        edited = text[:position] + rng.choice(alphabet) + text[position + 1 :]  # one character changed
        a, b = shingles(text), shingles(edited)
        if len(a & b) / len(a | b) >= 0.85:
            train.append(text)
            test.append(edited)
    texts = train + test
    splits = ["train"] * len(train) + ["test"] * len(test)
    result = find_duplicates(texts, splits, [str(i) for i in range(len(texts))])
    assert len(train) > 200
    assert set(result.remove) == set(range(len(train), len(texts)))  # every leaked test record


def test_normalize_replacing_inert_punctuation_first_changes_nothing() -> None:
    import unicodedata

    from tunesmith.data.dedup import _NOT_WORD, INERT_PUNCTUATION

    assert "，" in INERT_PUNCTUATION and "。" in INERT_PUNCTUATION and "「" in INERT_PUNCTUATION
    # No inert mark is half of a canonical composition pair, first or second.
    paired = set()
    for code in range(0x110000):
        parts = unicodedata.decomposition(chr(code)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            paired.update(chr(int(part, 16)) for part in parts)
    assert not paired & set(INERT_PUNCTUATION)
    rng = random.Random(5)
    others = ["e", "a", "\u0301", "\u0308", "\u1100", "\u1161", "\u11a8", "Ａ", "ﬁ", "①", "Σ", "İ", "王", " "]
    alphabet = [*INERT_PUNCTUATION, *others * 10]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 12)))
        reference = _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower())
        assert normalize(text) == reference, text


def test_near_duplicates_verified_on_two_processes_are_those_one_finds() -> None:
    """The Jaccard of candidate pairs, in tasks of 7 later records on two forked workers, against
    one pass in this process, and against the plain set definition."""
    rng = random.Random(5)
    words = [f"w{i}" for i in range(60)]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randrange(4, 14))) for _ in range(40)]
    texts += [t if rng.random() < 0.5 else t + " extra" for t in texts]  # near and exact repeats
    listed = {later: sorted({later - 40, *range(later % 7, 40, 7)}) for later in range(40, len(texts))}
    pairs = (
        np.asarray([later for later, earlier in listed.items() for _ in earlier]),
        np.asarray([other for earlier in listed.values() for other in earlier]),
    )
    alone = similar_pairs(pairs, texts, 0.8)
    spread = similar_pairs(pairs, texts, 0.8, workers=2, per_task=7)
    assert spread.tolist() == alone.tolist() and len(alone) >= 10
    found = {divmod(int(key), len(texts)) for key in alone}
    for later, earlier in listed.items():
        for other in earlier:
            a, b = shingles(texts[later]), shingles(texts[other])
            if len(a & b) / len(a | b) >= 0.8 + 1e-9:
                assert (later, other) in found

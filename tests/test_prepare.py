import json
from collections import Counter
from pathlib import Path

from helpers import faq_records, write_jsonl
from task_data import translation_rows

from tunesmith import recipe as recipe_io
from tunesmith.data.split import assign_splits
from tunesmith.prepare.stage import prepare, read_split


def _recipe(tmp_path: Path, data: Path, extra: str = "") -> recipe_io.Recipe:
    path = tmp_path / "recipe.yaml"
    path.write_text(
        f"data: {{train: {data.name}, text_field: question, label_field: intent}}\n"
        f"prepare: {{dedup: {{enabled: false}}}}\n{extra}",
        encoding="utf-8",
    )
    return recipe_io.load(path)


def _rejected(run: Path) -> list[dict]:
    lines = (run / "data" / "rejected.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_bad_records_are_quarantined_with_file_line_and_reason(tmp_path: Path) -> None:
    records = faq_records(40)
    records[3].pop("intent")
    records[7]["question"] = "   "
    path = write_jsonl(tmp_path / "faq.jsonl", records)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"question": "broken\n')
    result = prepare(_recipe(tmp_path, path), tmp_path / "run")
    rejected = _rejected(tmp_path / "run")
    assert result.rejected == 3
    assert {(r["line"], r["field"]) for r in rejected} == {(4, "intent"), (8, "question"), (41, None)}
    assert all(r["file"].endswith("faq.jsonl") and r["reason"] for r in rejected)
    report = json.loads((tmp_path / "run" / "data" / "report.json").read_text())
    assert report["rows_read"] == 41 and report["rows_accepted"] == 38 and report["rows_rejected"] == 3
    kept = sum(len(read_split(tmp_path / "run", s)) for s in ("train", "validation", "test"))
    assert kept == 38


def test_label_that_occurs_once_stays_in_train_and_is_reported(tmp_path: Path) -> None:
    records = faq_records(60)
    records.append({"id": "rare", "question": "我要投诉", "intent": "complaint"})
    path = write_jsonl(tmp_path / "faq.jsonl", records)
    result = prepare(_recipe(tmp_path, path), tmp_path / "run")
    train_labels = [r["label"] for r in read_split(tmp_path / "run", "train")]
    assert train_labels.count("complaint") == 1
    assert "complaint" in result.labels
    report = json.loads((tmp_path / "run" / "data" / "report.json").read_text())
    assert any("single training example" in w for w in report["warnings"])


def test_splits_are_seeded_stratified_and_deterministic(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "faq.jsonl", faq_records(400))
    recipe = _recipe(tmp_path, path)
    prepare(recipe, tmp_path / "a")
    prepare(recipe, tmp_path / "b")
    for split in ("train", "validation", "test"):
        assert read_split(tmp_path / "a", split) == read_split(tmp_path / "b", split)
    test = read_split(tmp_path / "a", "test")
    assert len(test) == 40
    assert Counter(r["label"] for r in test) == {"card": 10, "delivery": 10, "password": 10, "refund": 10}
    other = recipe.model_copy(update={"seed": 7})
    prepare(other, tmp_path / "c")
    assert read_split(tmp_path / "c", "test") != test


def test_separate_files_and_split_column(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "tr.jsonl", faq_records(80, seed=1))
    write_jsonl(tmp_path / "te.jsonl", faq_records(20, seed=2))
    recipe = _recipe(tmp_path, tmp_path / "tr.jsonl", "")
    recipe = recipe.model_copy(
        update={"data": recipe.data.model_copy(update={"test": str(tmp_path / "te.jsonl")})}
    )
    result = prepare(recipe, tmp_path / "run")
    assert result.counts["test"] == 20 and result.counts["validation"] == 8
    assert result.counts["train"] == 72

    records = faq_records(30)
    for i, record in enumerate(records):
        record["part"] = ["train", "dev", "test"][i % 3]
    records[0]["part"] = "holdout"
    path = write_jsonl(tmp_path / "col.jsonl", records)
    recipe = _recipe(tmp_path, path, "")
    recipe = recipe.model_copy(update={"data": recipe.data.model_copy(update={"split_field": "part"})})
    result = prepare(recipe, tmp_path / "run2")
    assert result.counts == {"train": 9, "validation": 10, "test": 10}
    assert _rejected(tmp_path / "run2")[0]["field"] == "part"


def test_gbk_csv_end_to_end_through_prepare(tmp_path: Path) -> None:
    lines = ["问题,类别"] + [f"{r['question'].replace(',', ' ')},{r['intent']}" for r in faq_records(50)]
    path = tmp_path / "gbk.csv"
    path.write_bytes("\n".join(lines).encode("gbk"))
    recipe_path = tmp_path / "r.yaml"
    recipe_path.write_text(
        "data: {train: gbk.csv, text_field: 问题, label_field: 类别}\nprepare: {dedup: {enabled: false}}\n",
        encoding="utf-8",
    )
    result = prepare(recipe_io.load(recipe_path), tmp_path / "run")
    assert result.rejected == 0
    assert sum(result.counts.values()) == 50
    texts = [r["text"] for r in read_split(tmp_path / "run", "train")]
    assert any("密码" in t for t in texts)


def test_assign_splits_keeps_overall_ratios_with_many_small_labels() -> None:
    keys = [f"label{i // 4}" for i in range(400)]  # 100 labels of 4 records each
    splits = assign_splits(keys, 0.1, 0.1, seed=3)
    counts = Counter(splits)
    assert abs(counts["test"] - 40) <= 1 and abs(counts["validation"] - 40) <= 1
    per_label_train = Counter(k for k, s in zip(keys, splits, strict=True) if s == "train")
    assert len(per_label_train) == 100  # every label keeps training data
    assert assign_splits(["only"], 0.1, 0.1, seed=0) == ["train"]


def test_a_task_without_labels_warns_only_of_splits_that_are_really_empty(tmp_path: Path) -> None:
    # seq2seq records carry a target text, not a label: the split counts decide what is empty
    path = write_jsonl(tmp_path / "pairs.jsonl", translation_rows(200))
    recipe_path = tmp_path / "recipe.yaml"
    recipe_path.write_text(
        f"data: {{train: {path.name}, text_field: en, label_field: zh}}\n"
        "task: {type: seq2seq}\nprepare: {dedup: {enabled: false}}\n",
        encoding="utf-8",
    )
    prepare(recipe_io.load(recipe_path), tmp_path / "run")
    report = json.loads((tmp_path / "run" / "data" / "report.json").read_text())
    assert report["split_counts"]["validation"] > 0 and report["split_counts"]["test"] > 0
    assert not any("split is empty" in w for w in report["warnings"])


def test_a_named_test_file_is_kept_whole_with_its_overlaps_listed(tmp_path: Path) -> None:
    """A test file the user names is never shrunk: its records that repeat training records or
    each other stay, listed, and evaluation scores the set with and without them."""
    import numpy as np

    from tunesmith.evaluate.stage import _without, describe_overlaps

    train = [{"question": f"订单{i}号的退款什么时候到账", "intent": "refund"} for i in range(40)]
    train += [{"question": f"包裹{i}还没有收到怎么办", "intent": "delivery"} for i in range(40)]
    test = [
        {"question": "订单3号的退款什么时候到账", "intent": "refund"},  # repeats a training record
        {"question": "包裹99号丢了怎么办呢", "intent": "delivery"},
        {"question": "包裹99号丢了怎么办呢", "intent": "delivery"},  # repeats the one before
        {"question": "我的密码忘记了", "intent": "refund"},
    ]
    write_jsonl(tmp_path / "tr.jsonl", train)
    write_jsonl(tmp_path / "te.jsonl", test)
    path = tmp_path / "recipe.yaml"
    path.write_text(
        "data: {train: tr.jsonl, test: te.jsonl, text_field: question, label_field: intent}\n",
        encoding="utf-8",
    )
    prepared = prepare(recipe_io.load(path), tmp_path / "run")
    assert prepared.counts["test"] == 4  # nothing removed from the named set
    overlaps = json.loads((tmp_path / "run" / "data" / "report.json").read_text())["duplicates"][
        "test_overlaps"
    ]
    assert overlaps["kept"] == 2 and overlaps["positions"] == [0, 2], overlaps
    assert overlaps["reasons"][0].startswith("leakage") and overlaps["reasons"][1].startswith("duplicate")
    right = np.asarray([1, 0, 0, 1])  # a scorer over record positions: accuracy of some answers
    found = _without(overlaps, {"accuracy": lambda rows: float(right[rows].mean())}, 4)
    assert found["count"] == 2 and found["accuracy"] == 0.5 and found["left_out"] == 2
    line = describe_overlaps(
        {"count": 4, "accuracy": 0.5, "confidence_intervals": {"accuracy": (0, 1)}, "without_overlaps": found}
    )
    assert "scored whole" in line and "without the 2 that repeat training records or each other" in line

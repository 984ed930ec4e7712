"""Messy real-world input: every record is either used (with a documented coercion) or quarantined
with file, line, field and reason. Nothing is lost silently."""

import json
from pathlib import Path

from tunesmith import recipe as recipe_io
from tunesmith.prepare.stage import prepare, read_split


def _prepare(tmp_path: Path, data: str, *extra: str) -> tuple[list[dict], list[dict], dict]:
    path = tmp_path / "r.yaml"
    path.write_text(f"data: {{train: {data}}}\nprepare: {{dedup: {{enabled: false}}}}\n")
    recipe = recipe_io.load(path, ["split.validation=0.2", "split.test=0.2", *extra])
    prepare(recipe, tmp_path / "run")
    kept = [r for s in ("train", "validation", "test") for r in read_split(tmp_path / "run", s)]
    rejected_file = tmp_path / "run" / "data" / "rejected.jsonl"
    rejected = [json.loads(line) for line in rejected_file.read_text(encoding="utf-8").splitlines()]
    report = json.loads((tmp_path / "run" / "data" / "report.json").read_text(encoding="utf-8"))
    assert report["rows_read"] == len(kept) + len(rejected)  # nothing silently lost
    return kept, rejected, report


def test_a_folder_of_files_in_different_encodings(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    rows = [f"订单{i}的退款什么时候到账,{'退款' if i % 2 else '物流'}" for i in range(20)]
    body = "text,label\n" + "\n".join(rows) + "\n"
    (folder / "a_utf8.csv").write_text(body, encoding="utf-8")
    (folder / "b_bom.csv").write_bytes(body.encode("utf-8-sig"))
    (folder / "c_gbk.csv").write_bytes(body.encode("gbk"))
    (folder / "notes.md").write_text("not data")
    kept, rejected, report = _prepare(tmp_path, "exports")
    assert len(kept) == 60 and not rejected
    assert all("退款什么时候到账" in r["text"] for r in kept)
    assert {r["source"].split(":")[0] for r in kept} == {"a_utf8.csv", "b_bom.csv", "c_gbk.csv"}
    assert len(report["sources"]) == 3


def test_csv_with_quoted_newlines_reports_the_line_a_record_starts(tmp_path: Path) -> None:
    lines = ["text,label"]
    for i in range(12):
        lines.append(f'"first line {i}\nsecond line {i}",{"a" if i % 2 else "b"}')
    lines.append('"a broken row\nspanning lines",b,extra')  # starts on line 26
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    kept, rejected, _ = _prepare(tmp_path, "d.csv")
    assert len(kept) == 12 and any(r["text"] == "first line 0 second line 0" for r in kept)
    assert rejected[0]["line"] == 26 and "3 fields" in rejected[0]["reason"]


def test_missing_labels_in_every_spelling_are_quarantined(tmp_path: Path) -> None:
    records = [{"text": f"question number {i}", "label": "yes" if i % 2 else "no"} for i in range(12)]
    for i, empty in enumerate([None, float("nan"), "NaN", "null", "", "N/A"]):
        records.append({"text": f"unlabelled {i}", "label": empty})
    (tmp_path / "d.jsonl").write_text(
        "\n".join(json.dumps(r, allow_nan=True) for r in records) + "\n", encoding="utf-8"
    )
    kept, rejected, report = _prepare(tmp_path, "d.jsonl")
    assert report["labels"] == ["no", "yes"] and len(kept) == 12
    assert len(rejected) == 6 and {r["field"] for r in rejected} == {"label"}
    assert all(r["reason"].startswith("missing field") for r in rejected)


def test_numbers_stored_as_text_and_lists_or_strings(tmp_path: Path) -> None:
    records = []
    for i in range(12):
        label = [1, "1", "1.0", 1.0, 0, "0"][i % 6]  # one integer label written four ways
        text = ["tags", f"item {i}"] if i % 3 == 0 else f"item {i} as a string"
        records.append({"text": text, "label": label})
    records.append({"text": "two labels", "label": ["1", "0"]})
    records.append({"text": 12345, "label": "1"})  # a number as the text
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    kept, rejected, report = _prepare(tmp_path, "d.jsonl")
    assert report["labels"] == ["0", "1"]
    texts = {r["text"] for r in kept}
    assert "tags; item 0" in texts and "item 1 as a string" in texts and "12345" in texts
    assert len(rejected) == 1 and "list" in rejected[0]["reason"] and rejected[0]["field"] == "label"

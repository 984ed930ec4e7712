"""Annotation round trips through the real CLI: Label Studio tasks out, exports in, suggestions."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from cli_helpers import tunesmith
from helpers import faq_records, write_jsonl

from tunesmith.annotate.labelstudio import read_export


def test_export_then_import_a_label_studio_project(tmp_path: Path) -> None:
    records = faq_records(12)
    records[3]["intent"] = None  # not labelled yet
    write_jsonl(tmp_path / "faq.jsonl", records)
    tunesmith(
        "annotate",
        "export",
        "faq.jsonl",
        "-o",
        "tasks.json",
        "--text-field",
        "question",
        "--label-field",
        "intent",
        cwd=tmp_path,
    )
    tasks = json.loads((tmp_path / "tasks.json").read_text(encoding="utf-8"))
    assert len(tasks) == 12 and "annotations" not in tasks[3]
    config = (tmp_path / "tasks.labeling_config.xml").read_text(encoding="utf-8")
    assert '<Choices name="label" toName="text"' in config
    assert all(f'value="{r["intent"]}"' in config for r in records if r["intent"])
    # What Label Studio hands back: ids and timestamps added; one task relabelled later; one skipped.
    for i, task in enumerate(tasks, start=1):
        task["id"] = i
        for annotation in task.get("annotations", []):
            annotation["created_at"] = "2026-11-01T10:00:00Z"
    tasks[0]["annotations"].append(
        {
            "result": [
                {"type": "choices", "from_name": "label", "to_name": "text", "value": {"choices": ["refund"]}}
            ],
            "created_at": "2026-11-02T10:00:00Z",
        }
    )
    tasks[1]["annotations"][0]["was_cancelled"] = True
    (tmp_path / "export.json").write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    tunesmith("annotate", "import", "export.json", "-o", "labelled.jsonl", cwd=tmp_path)
    back = [json.loads(x) for x in (tmp_path / "labelled.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in back] == [r["question"] for r in records]
    assert back[0]["label"] == "refund" and back[1]["label"] is None and back[3]["label"] is None
    assert [r["label"] for r in back[4:]] == [r["intent"] for r in records[4:]]


def test_read_json_min_and_csv_exports(tmp_path: Path) -> None:
    (tmp_path / "min.json").write_text(
        json.dumps(
            [
                {"id": 1, "text": "refund please", "label": "refund"},
                {"id": 2, "text": "two tags", "label": {"choices": ["a", "b"]}},
                {"id": 3, "text": "not yet"},
            ]
        ),
        encoding="utf-8",
    )
    assert [r["label"] for r in read_export(tmp_path / "min.json")] == ["refund", ["a", "b"], None]
    with (tmp_path / "export.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "id", "label", "annotator"])
        writer.writerow(["怎么退款", "1", "refund", "a@example.com"])
        writer.writerow(["两个", "2", '{"choices": ["a", "b"]}', "b@example.com"])
    rows = read_export(tmp_path / "export.csv")
    assert rows[0]["label"] == "refund" and rows[1]["label"] == ["a", "b"]


def test_suggest_orders_by_uncertainty_and_masks_pii(trained: Path, tmp_path: Path) -> None:
    records = [{"question": r["question"]} for r in faq_records(30, seed=7)]
    records[5]["question"] += " 我的手机13912345678"
    records.append({"other": "no text"})  # quarantined, not lost
    write_jsonl(tmp_path / "new.jsonl", records)
    result = tunesmith("annotate", "suggest", str(trained), "new.jsonl", "-o", "todo.json", cwd=tmp_path)
    assert "rejected 1 records" in result.stderr
    tasks = json.loads((tmp_path / "todo.json").read_text(encoding="utf-8"))
    assert len(tasks) == 30
    uncertainty = [t["data"]["uncertainty"] for t in tasks]
    assert uncertainty == sorted(uncertainty, reverse=True) and uncertainty[0] > uncertainty[-1]
    prediction = tasks[0]["predictions"][0]
    assert 0 < prediction["score"] <= 1 and prediction["result"][0]["value"]["choices"][0]
    text = (tmp_path / "todo.json").read_text(encoding="utf-8")
    assert "13912345678" not in text and "[PHONE]" in text
    tunesmith(
        "annotate",
        "suggest",
        str(trained),
        "new.jsonl",
        "-o",
        "todo.csv",
        "--top",
        "5",
        "--strategy",
        "margin",
        cwd=tmp_path,
    )
    with (tmp_path / "todo.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["rank"]) for r in rows] == [1, 2, 3, 4, 5]
    margins = [float(r["uncertainty"]) for r in rows]
    assert margins == sorted(margins, reverse=True)

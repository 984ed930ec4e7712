import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tunesmith.data.encoding import detect_encoding
from tunesmith.data.fields import FieldMissing, extract_text
from tunesmith.data.read import Unreadable, read_records
from tunesmith.errors import DataError


def test_empty_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        list(read_records(path))


def test_gbk_csv_is_detected_and_read(tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    path.write_bytes("问题,类别\n如何重置密码?,账户\n物流太慢了!,物流\n".encode("gbk"))
    assert detect_encoding(path) == "gb18030"
    rows = [r for _, r in read_records(path)]
    assert rows == [{"问题": "如何重置密码?", "类别": "账户"}, {"问题": "物流太慢了!", "类别": "物流"}]


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufefftext,label\nhello,a\n".encode())
    assert [r for _, r in read_records(path)] == [{"text": "hello", "label": "a"}]


def test_broken_jsonl_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a", "label": "x"}\n{"text": "b", "lab\n{"text": "c", "label": "y"}\n')
    out = list(read_records(path))
    assert [line for line, _ in out] == [1, 2, 3]
    assert isinstance(out[1][1], Unreadable) and "broken JSON" in out[1][1].reason
    assert out[2][1] == {"text": "c", "label": "y"}


def test_json_array_and_object_holding_records(tmp_path: Path) -> None:
    array = tmp_path / "a.json"
    array.write_text(json.dumps([{"t": "x"}, {"t": "y"}]))
    assert [r for _, r in read_records(array)] == [{"t": "x"}, {"t": "y"}]
    wrapped = tmp_path / "b.json"
    wrapped.write_text(json.dumps({"meta": {"v": 1}, "records": [{"t": "z"}]}))
    assert [r for _, r in read_records(wrapped)] == [{"t": "z"}]


def test_tsv_and_parquet(tmp_path: Path) -> None:
    tsv = tmp_path / "d.tsv"
    tsv.write_text("text\tlabel\nhello, world\tgreet\n")
    assert [r for _, r in read_records(tsv)] == [{"text": "hello, world", "label": "greet"}]
    parquet = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": ["a", "b"], "label": [1, 2]}), parquet)
    assert [r for _, r in read_records(parquet)] == [{"text": "a", "label": 1}, {"text": "b", "label": 2}]


def test_nested_list_and_template_fields() -> None:
    record = {
        "patient": "p1",
        "symptoms": ["fever", "cough"],
        "examination_results": {"temperature": 38.5},
        "amount": 120.0,
        "location": "上海",
    }
    assert extract_text(record, "symptoms", None, ", ") == "fever, cough"
    assert extract_text(record, "examination_results.temperature", None, ", ") == "38.5"
    template = "amount {amount} at {location}; symptoms {symptoms}"
    assert extract_text(record, None, template, "/") == "amount 120 at 上海; symptoms fever/cough"
    with pytest.raises(FieldMissing):
        extract_text(record, None, "{examination_results.pulse}", ", ")


def test_headerless_csv_is_read_with_the_given_column_names(tmp_path: Path) -> None:
    path = tmp_path / "pairs.tsv"
    path.write_text("1\ta\tb\t0\n2\tc\td\t1\n3\te\n", encoding="utf-8")
    rows = list(read_records(path, columns=["id", "text_1", "text_2", "label"]))
    assert [r for _, r in rows[:2]] == [
        {"id": "1", "text_1": "a", "text_2": "b", "label": "0"},
        {"id": "2", "text_1": "c", "text_2": "d", "label": "1"},
    ]
    assert rows[2][0] == 3 and "data.columns names 4" in rows[2][1].reason


def test_a_text_file_is_one_record_per_line_unless_it_is_tab_separated(tmp_path: Path) -> None:
    lines = tmp_path / "neg.txt"
    lines.write_text("太差了, 不会再买\n\n物流很慢\n", encoding="utf-8")
    assert [r for _, r in read_records(lines)] == [
        {"text": "太差了, 不会再买", "file": "neg"},
        {"text": "物流很慢", "file": "neg"},
    ]
    table = tmp_path / "cmn.txt"
    table.write_text("text\tzh\nHi.\t你好。\nRun.\t跑。\n", encoding="utf-8")
    assert next(r for _, r in read_records(table)) == {"text": "Hi.", "zh": "你好。"}


def test_templates_render_symptom_maps_and_optional_fields() -> None:
    from tunesmith.data.fields import render_template, template_fields

    record = {"symptoms": ["发热", "咳嗽"], "implicit": {"头痛": False, "喷嚏": True}, "notes": ""}
    template = "symptoms: {symptoms}; implicit: {implicit}; notes: {notes?}"
    assert render_template(template, record, ", ") == "symptoms: 发热, 咳嗽; implicit: 喷嚏, 无头痛; notes: "
    assert render_template("{flags}", {"flags": {"fever": True, "rash": False}}, ", ") == "fever, no rash"
    assert template_fields(template) == ["symptoms", "implicit", "notes"]
    with pytest.raises(FieldMissing):
        render_template("{notes}", record, ", ")

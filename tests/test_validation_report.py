"""The data validation report: JSON plus one self-contained HTML page with plots and advice."""

import json
import re
from pathlib import Path

from helpers import faq_records, write_jsonl

from tunesmith import recipe as recipe_io
from tunesmith.prepare.stage import prepare


def test_report_html_has_plots_tokens_pii_duplicates_and_advice(tmp_path: Path, tiny_model: Path) -> None:
    records = faq_records(200)
    records += [{"question": "退款到账了吗 13912345678", "intent": "refund"}] * 3  # exact repeats, PII
    records += [{"question": "rare question", "intent": "rare"}, {"question": "", "intent": "refund"}]
    write_jsonl(tmp_path / "faq.jsonl", records)
    (tmp_path / "r.yaml").write_text(
        "data: {train: faq.jsonl, text_field: question, label_field: intent}\n"
        f"model: {{name: {tiny_model}, max_length: 8}}\n"
    )
    prepare(recipe_io.load(tmp_path / "r.yaml"), tmp_path / "run")
    report = json.loads((tmp_path / "run" / "data" / "report.json").read_text(encoding="utf-8"))
    tokens = report["text_tokens"]
    assert tokens["sample"] == report["rows_accepted"] - report["duplicates"]["removed"]
    assert tokens["max_length"] == 8 and 0 < tokens["truncated_share"] <= 1
    assert sum(report["language_mix"].values()) == tokens["sample"]
    advice = " ".join(report["warnings"])
    assert "model.max_length" in advice and "single training example" in advice
    page = (tmp_path / "run" / "data" / "report.html").read_text(encoding="utf-8")
    assert "<h1>Data validation report</h1>" in page
    for section in (
        "Warnings and advice",
        "Labels",
        "Text length",
        "Duplicates and leakage",
        "Personal data",
        "Language mix",
    ):
        assert f"<h2>{section}</h2>" in page
    assert len(re.findall(r'src="data:image/png;base64,[A-Za-z0-9+/=]{200,}"', page)) >= 6
    assert "PHONE" in page and "13912345678" not in page
    assert "http://" not in page and "https://" not in page  # nothing fetched when opened offline


def test_token_length_filters_reject_with_the_count(tmp_path: Path, tiny_model: Path) -> None:
    write_jsonl(tmp_path / "faq.jsonl", faq_records(60))
    (tmp_path / "r.yaml").write_text(
        "data: {train: faq.jsonl, text_field: question, label_field: intent}\n"
        f"model: {{name: {tiny_model}}}\nprepare: {{max_tokens: 6, dedup: {{enabled: false}}}}\n"
    )
    result = prepare(recipe_io.load(tmp_path / "r.yaml"), tmp_path / "run")
    rejected = [
        json.loads(x) for x in (tmp_path / "run" / "data" / "rejected.jsonl").read_text().splitlines()
    ]
    assert result.rejected == len(rejected) > 0
    assert all(re.fullmatch(r"text longer than 6 tokens \(\d+\)", r["reason"]) for r in rejected)

"""The data validation report as one self-contained HTML page (plots inline, no CDN): rows in and
rejected, labels and imbalance, lengths in characters and tokens, duplicates, leakage, PII and
language mix, with the warnings and what to do about them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tunesmith import atomic
from tunesmith.html_page import escape, page, table
from tunesmith.metrics.plots import bar_chart, data_uri, histogram


def _img(fig: Any, alt: str) -> str:
    return f'<img alt="{escape(alt)}" src="{data_uri(fig)}">'


def _labels_section(report: dict[str, Any]) -> str:
    counts = report["label_counts"]
    labels = report["labels"]
    train = counts.get("train", {})
    rows = [
        [label, *(counts.get(s, {}).get(label, 0) for s in ("train", "validation", "test"))]
        for label in labels
    ]
    present = [v for v in train.values() if v]
    ratio = max(present) / min(present) if present else 0
    out = (
        f"<p>{len(labels)} labels; imbalance ratio (largest / smallest train class): <b>{ratio:.1f}:1</b></p>"
    )
    total = {label: sum(counts.get(s, {}).get(label, 0) for s in counts) for label in labels}
    return (
        out
        + _img(bar_chart(total, "records per label (all splits)", "records"), "records per label")
        + table(["label", "train", "validation", "test"], rows[:200])
    )


def _lengths_section(report: dict[str, Any], chars: np.ndarray, tokens: np.ndarray | None) -> str:
    figures = [_img(histogram(chars, "text length", "characters"), "characters")]
    stats = [["characters", *(report["text_chars"].get(k, "") for k in ("min", "median", "p95", "max"))]]
    token_info = report.get("text_tokens") or {}
    if tokens is not None and len(tokens):
        limit = token_info.get("max_length")
        figures.append(_img(histogram(tokens, "text length (tokens, sample)", "tokens", limit), "tokens"))
        stats.append(["tokens", *(token_info.get(k, "") for k in ("min", "median", "p95", "max"))])
    note = ""
    if token_info.get("truncated_share") is not None:
        note = (
            f"<p>{token_info['truncated_share']:.1%} of sampled texts are longer than "
            f"<code>model.max_length</code> = {token_info['max_length']} tokens and will be cut.</p>"
        )
    elif token_info.get("note"):
        note = f"<p>{escape(token_info['note'])}</p>"
    return (
        f'<div class="grid">{"".join(figures)}</div>'
        + table(["length", "min", "median", "p95", "max"], stats)
        + note
    )


def _duplicates_section(report: dict[str, Any]) -> str:
    duplicates = report["duplicates"]
    if not duplicates.get("enabled"):
        return "<p>Duplicate detection is off (<code>prepare.dedup.enabled: false</code>).</p>"
    counts = duplicates.get("counts", {})
    if not counts:
        return '<p class="ok">No exact or near duplicates, no leakage between splits.</p>'
    examples = [[x["kind"], x["text"], x["duplicate_of"]] for x in duplicates.get("examples", [])]
    leak = counts.get("exact_across_splits", 0) + counts.get("near_across_splits", 0)
    return (
        f"<p>{duplicates['removed']:,} records removed; {leak:,} of them repeated a record of an earlier "
        "split (leakage). Near duplicates inside a split are reported and kept.</p>"
        + _img(bar_chart(counts, "duplicates by kind", "records"), "duplicates")
        + table(["kind", "text", "duplicate of"], examples)
    )


def _pii_section(report: dict[str, Any]) -> str:
    pii = report["pii"]
    if not pii.get("enabled"):
        return '<p class="warn">De-identification is off (<code>prepare.pii.enabled: false</code>).</p>'
    out = (
        f"<p>Action <code>{escape(pii['action'])}</code>; {pii['records_with_pii']:,} records held personal "
        "data, replaced before anything was tokenized or written.</p>"
    )
    if pii["found_by_type"]:
        out += _img(bar_chart(pii["found_by_type"], "personal data found, by type", "findings"), "pii")
        out += table(["field:type", "findings"], [[k, v] for k, v in pii["found_by_field"].items()])
    if pii.get("columns"):
        out += table(["column:policy", "records"], [[k, v] for k, v in pii["columns"].items()])
    return out


def _target_section(report: dict[str, Any], targets: np.ndarray) -> str:
    stats = report["target"] or {}
    return _img(histogram(targets, "target values (all splits)", "value"), "targets") + table(
        ["target", "min", "median", "p95", "max", "mean"],
        [["value", *(stats.get(k, "") for k in ("min", "median", "p95", "max", "mean"))]],
    )


def write_validation_report(
    report: dict[str, Any],
    chars: np.ndarray,
    tokens: np.ndarray | None,
    path: Path,
    targets: np.ndarray | None = None,
) -> None:
    """Write `report.html` from the data report and the length samples."""
    counts = report["split_counts"]
    cards = "".join(
        f'<div class="card">{escape(name)}<b>{value:,}</b></div>'
        for name, value in [
            ("rows read", report["rows_read"]),
            ("accepted", report["rows_accepted"]),
            ("rejected", report["rows_rejected"]),
            ("train", counts["train"]),
            ("validation", counts["validation"]),
            ("test", counts["test"]),
        ]
    )
    warnings = "".join(f'<div class="warn">{escape(w)}</div>' for w in report["warnings"])
    warnings = warnings or '<div class="ok">No warnings.</div>'
    rejected = report["rejected_by_reason"]
    rejected_html = (
        _img(bar_chart(rejected, "rejected records, by reason", "records"), "rejected")
        + "<p>Each rejected record is in <code>rejected.jsonl</code> with file, line, field and reason.</p>"
        if rejected
        else '<p class="ok">No record was rejected.</p>'
    )
    language = report.get("language_mix", {})
    sections = [
        ("Warnings and advice", warnings),
        ("Rows", f'<div class="cards">{cards}</div>' + rejected_html),
        ("Labels", _labels_section(report) if targets is None else _target_section(report, targets)),
        ("Text length", _lengths_section(report, chars, tokens)),
        ("Duplicates and leakage", _duplicates_section(report)),
        ("Personal data", _pii_section(report)),
        (
            "Language mix",
            f"<p>Overall: <b>{escape(report['language'])}</b> "
            f"(sample of {sum(language.values()):,} texts)</p>"
            + (
                _img(bar_chart(language, "language per text", "texts", horizontal=False), "language")
                if language
                else ""
            ),
        ),
        (
            "Sources",
            table(["file"], [[s] for s in report["sources"]])
            + f"<p>fingerprint {escape(report['fingerprint'])}</p>",
        ),
    ]
    body = "".join(f"<h2>{escape(title)}</h2>{content}" for title, content in sections)
    title = "Data validation report"
    atomic.write_text(path, page(title, f"<h1>{title}</h1>{body}"))

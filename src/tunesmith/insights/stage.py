"""`tunesmith insights RUN SOURCE -o OUT`: read the records, score the new ones in batches (texts
cleaned and de-identified as the run's recipe says, as training and serving do), store the scores,
then write the report and the figures over every record scored so far."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tunesmith import atomic
from tunesmith.console import console, progress
from tunesmith.errors import DataError, TunesmithError
from tunesmith.insights.analysis import (
    Item,
    characteristic_terms,
    choose_period,
    counts_by_period,
    counts_by_segment,
    examples_by_label,
    find_segment_columns,
    find_spikes,
)
from tunesmith.insights.report import figures_rows, write_figures, write_report
from tunesmith.insights.rows import rejected_entry, usable
from tunesmith.insights.scoring import open_scorer
from tunesmith.insights.source import TIME_NAMES, Records, pick_column, read_source, row_key
from tunesmith.insights.store import FileStore
from tunesmith.insights.table_run import score_table

REJECTED_FILE = "rejected.jsonl"
LABELLED_TASKS = ("classification", "multilabel")


@dataclass
class Options:
    text_column: str | None = None
    id_column: str | None = None
    time_column: str | None = None
    segments: list[str] | None = None  # None: found automatically
    by: str = "id"  # id | time: what a second run skips
    period: str = "auto"
    batch_size: int = 64
    backend: str = "auto"
    scores_table: str | None = None
    engine: str = "local"  # local | ray: where the model scores the pages
    workers: int = 1  # Ray actors on this machine (Ray's local mode); a cluster uses its CPUs
    ray_address: str | None = None
    page_size: int = 1000  # rows per page: one query and one transaction each


@dataclass
class Outcome:
    read: int
    scored_now: int
    total: int
    rejected: int
    report: Path
    figures: Path
    store: str
    spikes: int


def insights(run_dir: Path, source: str, table: str | None, out: Path, options: Options) -> Outcome:
    from tunesmith.recipe import load_resolved
    from tunesmith.runtime.predict import Predictor

    if not (run_dir / "manifest.json").is_file():
        raise TunesmithError(
            f"{run_dir}: not a finished run (no manifest.json); finish it with `tunesmith run`"
        )
    recipe = load_resolved(run_dir)
    if recipe.task.type not in LABELLED_TASKS:
        raise TunesmithError(
            f"{run_dir}: a {recipe.task.type} run; insights need a classifier (sentiment, intent, "
            "topic: task.type classification or multilabel)"
        )
    records = read_source(source, table)  # the source's mistakes are found before the model loads
    text_column = pick_column(records, options.text_column, "text", (recipe.data.text_field,))
    if text_column is None:
        raise DataError(
            f"{records.where}: no column {recipe.data.text_field!r} (the run's text field); "
            f"name the text with --text-column (columns: {', '.join(records.columns)})"
        )
    id_column = pick_column(records, options.id_column, "id", ("id",))
    time_column = pick_column(records, options.time_column, "time", TIME_NAMES)
    if records.engine is not None and id_column is None:
        raise DataError(f"{records.where}: scores go back to the database by id: name it with --id-column")
    if options.by == "time" and time_column is None:
        raise DataError(f"{records.where}: --by time needs a time column (--time-column)")
    predictor = Predictor.from_run(run_dir, backend=options.backend)
    out.mkdir(parents=True, exist_ok=True)
    if records.engine is not None:
        assert id_column is not None
        table = score_table(records, run_dir, options, (text_column, id_column, time_column), predictor)
        _write_rejected(out, table.rejected)
        sampled = len(table.sample) < table.source_rows
        note = f"{len(table.scored):,} of {table.total:,} scored records" if sampled else None
        items = _items(table.sample, table.scored)
        counts = (table.read, table.scored_now, table.total, len(table.rejected))
        where = table.where
    else:
        store = FileStore(out, text_column)
        rows, rejected = usable(records, text_column, time_column)
        rows = _unique(rows, id_column, rejected, records.where)
        fresh = _new_rows(rows, store.scored(), options.by)
        store.add(_score(predictor, fresh, text_column, run_dir, options))
        _write_rejected(out, rejected)
        items = _items(rows, store.scored())
        counts, note, where = (len(rows), len(fresh), len(items), len(rejected)), None, store.where
    columns = (text_column, id_column, time_column)
    return _report(out, run_dir, records, items, predictor.labels, options, columns, counts, note, where)


def _unique(
    rows: list[dict[str, Any]], id_column: str | None, rejected: list[dict[str, Any]], where: str
) -> list[dict[str, Any]]:
    """Each row keyed; a later row with a key already seen is rejected (a repeated id or record)."""
    seen: dict[str, int] = {}
    kept = []
    for row in rows:
        row["_key"] = row_key(row["_row"], id_column)
        if row["_key"] in seen:
            what = f"{id_column} {row['_key']}" if id_column else "record"
            reason = f"duplicate {what} (first at line {seen[row['_key']]})"
            rejected.append(rejected_entry(where, row["_line"], id_column, reason, row["_row"]))
            continue
        seen[row["_key"]] = row["_line"]
        kept.append(row)
    return kept


def _new_rows(rows: list[dict[str, Any]], done: dict[str, dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """Rows not scored yet; with `by` time, only those after the latest time scored."""
    fresh = [r for r in rows if r["_key"] not in done]
    if by != "time":
        return fresh
    stamps = [pd.Timestamp(s["time"]) for s in done.values() if s["time"]]
    if not stamps:
        return fresh
    mark = max(stamps)
    return [r for r in fresh if r["_time"] is not None and r["_time"] > mark]


def _score(
    predictor: Any, rows: list[dict[str, Any]], text_column: str, run_dir: Path, options: Options
) -> list[dict[str, Any]]:
    """Score a file's new rows, a page at a time, here or on Ray."""
    settings = (str(run_dir), options.backend, text_column, options.batch_size)
    pages = (
        (rows[start : start + options.page_size], None) for start in range(0, len(rows), options.page_size)
    )
    scorer = open_scorer(options.engine, options.workers, options.ray_address, settings, predictor)
    with scorer as score, progress(show=bool(rows)) as bar:
        task = bar.add_task(f"scoring ({options.engine})", total=len(rows))
        for page, _ in score(pages):
            bar.advance(task, len(page))
    return rows


def _items(rows: list[dict[str, Any]], done: dict[str, dict[str, Any]]) -> list[Item]:
    """Every scored record, old and new: scores from the store, segments from the source record
    (or, for a record no longer in a file source, from the enriched file)."""
    by_key = {r["_key"]: r["_row"] for r in rows}
    items = []
    for key, stored in done.items():
        fields = by_key.get(key, stored["fields"])
        items.append(
            Item(
                key,
                str(stored["text"] or ""),
                str(stored["label"]),
                stored["score"],
                pd.Timestamp(stored["time"]) if stored["time"] else None,
                {k: str(v) for k, v in fields.items() if not str(k).startswith("_")},
            )
        )
    return items


def _report(
    out: Path,
    run_dir: Path,
    records: Records,
    items: list[Item],
    labels: list[str],
    options: Options,
    columns: tuple[str, str | None, str | None],
    counts: tuple[int, int, int, int],
    sample_note: str | None,
    store: str,
) -> Outcome:
    """`columns`: text, id, time; `counts`: read, scored now, scored in all, rejected;
    `sample_note`: what part of the scored records `items` is, when a sample."""
    text_column, id_column, time_column = columns
    read, scored_now, total, rejected = counts
    volume = pd.Series([i.label for i in items]).value_counts()
    order = {label: n for n, label in enumerate(labels)}  # ties keep the model's order
    labels = sorted(volume.index, key=lambda label: (-volume[label], order.get(label, len(order)), label))
    timed = [i.time for i in items if i.time is not None]
    period = (choose_period(timed) if options.period == "auto" else options.period) if timed else None
    by_period = counts_by_period(items, period, labels) if period else None
    skip = {text_column, id_column or "", time_column or "", "label", "score", "scored_at"}
    found = options.segments is None
    segment_columns = find_segment_columns([i.segments for i in items], skip) if found else options.segments
    missing = [c for c in segment_columns if c not in records.columns]
    if missing:
        raise DataError(
            f"{records.where}: no column {', '.join(missing)} to segment by "
            f"(columns: {', '.join(records.columns)})"
        )
    segments = {c: counts_by_segment(items, c, labels) for c in segment_columns}
    terms = characteristic_terms(items, labels)
    spikes = find_spikes(by_period, items, period) if by_period is not None else []
    summary = {
        "records": f"{total:,}",
        "scored this run": f"{scored_now:,}",
        "labels": str(len(labels)),
        "spikes": str(len(spikes)),
    }
    if timed:
        summary["from"] = min(timed).date().isoformat()
        summary["to"] = max(timed).date().isoformat()
    if sample_note:
        summary["figures from"] = f"a uniform sample: {sample_note}"
    title = f"Insights: {records.where} scored by {run_dir.name}"
    report = write_report(
        out,
        title,
        summary,
        items,
        labels,
        by_period,
        period,
        segments,
        terms,
        spikes,
        examples_by_label(items, labels),
    )
    figures = write_figures(out, figures_rows(by_period, segments, terms, spikes))
    return Outcome(read, scored_now, total, rejected, report, figures, store, len(spikes))


def _write_rejected(out: Path, rejected: list[dict[str, Any]]) -> None:
    path = out / REJECTED_FILE
    if rejected:
        atomic.write_text(
            path, "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rejected)
        )
    elif path.exists():
        path.unlink()


def say(outcome: Outcome) -> None:
    console.print(
        f"read {outcome.read:,} records, scored {outcome.scored_now:,} new ({outcome.total:,} in all) "
        f"-> {outcome.store}"
    )
    if outcome.rejected:
        console.print(
            f"[yellow]rejected {outcome.rejected:,} records[/] (no text or a bad time) -> "
            f"{outcome.report.parent / REJECTED_FILE}"
        )
    console.print(f"report: {outcome.report} ({outcome.spikes} spike(s)); figures: {outcome.figures}")

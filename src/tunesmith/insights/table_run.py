"""Scoring a database table at CRM size: pages after the watermark, scored here or on Ray, each
page's scores committed with the watermark after it; then a uniform sample of the scored rows
(by a hash of the key, the same sample every run) for the report, so memory stays flat with the
table's size."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunesmith.console import progress
from tunesmith.insights.rows import usable_row
from tunesmith.insights.scoring import Page, open_scorer
from tunesmith.insights.source import Records, row_key
from tunesmith.insights.store import TableStore
from tunesmith.insights.table_scan import PAGE, TableScan

REPORT_SAMPLE = 50_000  # scored rows the report reads at most: label shares within ~0.5 points


@dataclass
class TableScores:
    read: int = 0  # rows read after the watermark this run
    scored_now: int = 0
    total: int = 0  # rows in the scores table
    rejected: list[dict[str, Any]] = field(default_factory=list)
    sample: list[dict[str, Any]] = field(default_factory=list)  # source rows, keyed
    scored: dict[str, dict[str, Any]] = field(default_factory=dict)  # the sample's scores
    source_rows: int = 0
    where: str = ""  # the scores table, for messages


def in_sample(key: str, fraction: float) -> bool:
    if fraction >= 1:
        return True
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") < fraction * 2**64


def score_table(
    records: Records,
    run_dir: Path,
    options: Any,
    columns: tuple[str, str, str | None],
    predictor: Any,
) -> TableScores:
    """`columns`: the text, id and time columns."""
    text_column, id_column, time_column = columns
    store = TableStore(records.engine, records.table or "", options.scores_table)
    scan = TableScan(
        records.engine, records.reflected, id_column, time_column if options.by == "time" else None
    )
    mark = scan.read_mark(store.name)
    todo = scan.count(mark)
    out = TableScores(where=store.where)

    def pages() -> Iterator[Page]:
        for page in scan.pages(mark, options.page_size or PAGE):
            rows = []
            for row in page:
                kept, refused = usable_row(row, 0, records.where, text_column, time_column)
                if kept is None:
                    out.rejected.append(refused or {})
                    continue
                kept["_key"] = row_key(row, id_column)
                rows.append(kept)
            out.read += len(page)
            yield rows, (scan.mark_of(page[-1]), len(page))

    settings = (str(run_dir), options.backend, text_column, options.batch_size)
    scorer = open_scorer(options.engine, options.workers, options.ray_address, settings, predictor)
    with scorer as score, progress(show=todo > 0) as bar:
        task = bar.add_task(f"scoring ({options.engine})", total=todo)
        for rows, (page_mark, size) in score(pages()):
            out.scored_now += store.add_page(rows, scan, page_mark)
            bar.advance(task, size)
    out.total = store.count()
    _sample(out, records, id_column, store)
    return out


def _sample(out: TableScores, records: Records, id_column: str, store: TableStore) -> None:
    """Read the source once more, a page at a time, keeping the rows whose key falls in the
    sample; then their scores by key."""
    every = TableScan(records.engine, records.reflected, id_column, None)
    out.source_rows = every.count()
    fraction = min(1.0, REPORT_SAMPLE / max(1, out.total))
    for page in every.pages(None):
        for row in page:
            key = row_key(row, id_column)
            if in_sample(key, fraction):
                out.sample.append({"_key": key, "_row": row})
    out.scored = store.lookup([r["_key"] for r in out.sample])

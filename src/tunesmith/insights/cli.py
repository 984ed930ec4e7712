"""`tunesmith insights`: score a CRM or knowledge-base table in batches."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunesmith.errors import TunesmithError
from tunesmith.options import (
    RunDir,
)
from tunesmith.runtime.cli import BackendOption

app = typer.Typer()


@app.command()
def insights(
    run_dir: RunDir,
    source: Annotated[
        str,
        typer.Argument(help="Customer records: a data file, an SQLite file (.db), or a database URL."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the report, figures and scores.")],
    table: Annotated[str | None, typer.Option(help="The table to read, for a database source.")] = None,
    text_column: Annotated[
        str | None, typer.Option(help="Column with the text (default: the run's text field).")
    ] = None,
    id_column: Annotated[
        str | None, typer.Option(help="Column that identifies a record (default: 'id' if there).")
    ] = None,
    time_column: Annotated[
        str | None, typer.Option(help="Column with the record's date or time (default: date, time ...).")
    ] = None,
    segment: Annotated[
        list[str] | None,
        typer.Option(help="Column to compare label shares by (product, channel ...); default: found."),
    ] = None,
    by: Annotated[
        str, typer.Option(help="What a second run skips: id (records already scored) or time (older).")
    ] = "id",
    period: Annotated[str, typer.Option(help="auto, day, week or month.")] = "auto",
    scores_table: Annotated[
        str | None, typer.Option(help="Table the scores go to (default: <table>_insights).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Records per model call.")] = 64,
    backend: BackendOption = "auto",
    engine: Annotated[
        str, typer.Option(help="local, or ray: score on Ray actors, each holding the model.")
    ] = "local",
    workers: Annotated[
        int | None, typer.Option(min=1, help="Ray actors without --ray-address (default: the cores).")
    ] = None,
    ray_address: Annotated[
        str | None, typer.Option(help="A Ray cluster to score on (ray://head:10001).")
    ] = None,
    page_size: Annotated[
        int, typer.Option(min=1, help="Rows per page of a table: one query and one transaction each.")
    ] = 1000,
) -> None:
    """Score customer records with a classifier run and write an insight report: label shares
    over time, segments, characteristic terms, spikes and examples (report.html, figures.csv).
    Scores go back to the records (OUT/scored.jsonl, or a table of the same database); a second
    run scores only the new records.

    Examples:

        tunesmith insights runs/sentiment reviews.csv -o insights/

        tunesmith insights runs/intent crm.db --table tickets --id-column ticket_id -o insights/

        tunesmith insights runs/intent postgresql://user@db/crm --table tickets --by time -o out/

        tunesmith insights runs/intent crm.db --table tickets --engine ray --ray-address ray://head:10001
    """
    from tunesmith.insights.stage import Options, say
    from tunesmith.insights.stage import insights as run_insights

    if by not in ("id", "time"):
        raise TunesmithError(f"--by {by}: use id or time")
    if period not in ("auto", "day", "week", "month"):
        raise TunesmithError(f"--period {period}: use auto, day, week or month")
    if engine not in ("local", "ray"):
        raise TunesmithError(f"--engine {engine}: use local or ray")
    from tunesmith.threads import usable_cores

    options = Options(
        text_column,
        id_column,
        time_column,
        segment,
        by,
        period,
        batch_size,
        backend,
        scores_table,
        engine,
        workers or usable_cores(),
        ray_address,
        page_size,
    )
    say(run_insights(run_dir, source, table, out, options))

"""`tunesmith annotate ...`: Label Studio round trips and uncertainty-first suggestions."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated

import typer

from tunesmith import atomic
from tunesmith.console import console
from tunesmith.errors import TunesmithError
from tunesmith.runtime.formats import BACKEND_HELP

app = typer.Typer(
    help="Label data with people: Label Studio / CSV in and out, suggestions first.", no_args_is_help=True
)


def _csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(
            {
                k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v
                for k, v in row.items()
            }
            for row in rows
        )
    return buffer.getvalue()


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


@app.command("import")
def import_(
    export: Annotated[Path, typer.Argument(help="A Label Studio export: JSON, JSON-MIN or CSV.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Records to train on (JSONL or CSV).")],
) -> None:
    """Turn a Label Studio export into records {text, label} for a recipe.

    Example:

        tunesmith annotate import project-1-at-2026.json -o labelled.jsonl
    """
    from tunesmith.annotate.labelstudio import read_export

    records = read_export(export)
    labelled = sum(r["label"] is not None for r in records)
    atomic.write_text(out, _csv(records) if out.suffix.lower() == ".csv" else _jsonl(records))
    console.print(
        f"wrote {len(records):,} records to {out} ({labelled:,} labelled, "
        f"{len(records) - labelled:,} without a label: the recipe will quarantine those)"
    )


@app.command("export")
def export(
    data: Annotated[Path, typer.Argument(help="Records (JSON, JSONL, CSV, TSV, Parquet) or a folder.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Label Studio tasks (JSON) or CSV.")],
    text_field: Annotated[str, typer.Option(help="Field holding the text.")] = "text",
    label_field: Annotated[str | None, typer.Option(help="Field holding an existing label, if any.")] = None,
) -> None:
    """Write records as Label Studio tasks (existing labels become finished annotations) plus the
    project's labeling config.

    Example:

        tunesmith annotate export tickets.csv -o tasks.json --label-field intent
    """
    from tunesmith.annotate.labelstudio import labeling_config, to_task
    from tunesmith.data.fields import get_path, is_empty
    from tunesmith.data.quarantine import Quarantine
    from tunesmith.data.records import iter_texts

    tasks, rows, labels = [], [], set()
    quarantine = Quarantine(out.with_suffix(".rejected.jsonl"))
    try:
        for source, record, text in iter_texts(data, text_field, quarantine):
            raw = get_path(record, label_field) if label_field else None
            label = None if is_empty(raw) else raw if isinstance(raw, list) else str(raw)
            labels.update(label if isinstance(label, list) else [label] if label else [])
            tasks.append(to_task(text, {"source": source}, label))
            rows.append({"text": text, "label": label, "source": source})
    finally:
        quarantine.close()
    if out.suffix.lower() == ".csv":
        atomic.write_text(out, _csv(rows))
    else:
        atomic.write_text(out, json.dumps(tasks, ensure_ascii=False, indent=1))
        config = out.with_suffix(".labeling_config.xml")
        atomic.write_text(config, labeling_config(sorted(labels)))
        console.print(f"labeling config -> {config} (paste into the project's Labeling Interface)")
    console.print(f"wrote {len(tasks):,} tasks to {out}")
    if quarantine.count:
        console.print(f"[yellow]rejected {quarantine.count:,} records[/] -> {quarantine.path}")


@app.command("suggest")
def suggest(
    run_dir: Annotated[Path, typer.Argument(help="A finished run whose model makes the suggestions.")],
    data: Annotated[Path, typer.Argument(help="Unlabelled records (any supported format) or a folder.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Label Studio tasks (.json) or a table (.csv).")],
    strategy: Annotated[str, typer.Option(help="entropy | margin | least_confidence")] = "entropy",
    top: Annotated[int | None, typer.Option(help="Keep only the N most uncertain records.")] = None,
    text_field: Annotated[str | None, typer.Option(help="Field of the text (default: the run's).")] = None,
    backend: Annotated[str, typer.Option("--backend", help=BACKEND_HELP)] = "auto",
) -> None:
    """Pre-label unlabelled records with a trained model, most uncertain first, so people label
    where the model learns most. Texts are cleaned and de-identified as the run's recipe says.

    Example:

        tunesmith annotate suggest runs/faq new_tickets.jsonl -o to_label.json --top 500
    """
    from tunesmith.annotate.labelstudio import labeling_config, to_task
    from tunesmith.annotate.suggest import as_rows, read_unlabelled
    from tunesmith.annotate.suggest import suggest as make_suggestions
    from tunesmith.annotate.uncertainty import STRATEGIES
    from tunesmith.data.quarantine import Quarantine
    from tunesmith.runtime.predict import Predictor

    if strategy not in STRATEGIES:
        raise TunesmithError(f"--strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
    predictor = Predictor.from_run(run_dir, backend=backend)
    if predictor.task.type != "classification":
        raise TunesmithError(
            f"{run_dir} is a {predictor.task.type} run: suggestions work on single-label classification runs"
        )
    field = text_field or predictor.recipe.data.text_field
    if not isinstance(field, str):
        raise TunesmithError("the run reads several text fields: say which one with --text-field")
    quarantine = Quarantine(out.with_suffix(".rejected.jsonl"))
    try:
        texts, sources = read_unlabelled(data, field, quarantine)
    finally:
        quarantine.close()
    suggestions = make_suggestions(predictor, texts, sources, strategy)[:top]  # type: ignore[arg-type]
    if out.suffix.lower() == ".csv":
        atomic.write_text(out, _csv(as_rows(suggestions)))
    else:
        version = f"tunesmith:{run_dir.name}"
        tasks = [
            to_task(
                s.text,
                {"source": s.source, "uncertainty": round(s.uncertainty, 6)},
                prediction=(s.label, s.confidence),
                model_version=version,
            )
            for s in suggestions
        ]
        atomic.write_text(out, json.dumps(tasks, ensure_ascii=False, indent=1))
        atomic.write_text(out.with_suffix(".labeling_config.xml"), labeling_config(predictor.labels))
    console.print(f"wrote {len(suggestions):,} suggestions to {out}, most uncertain ({strategy}) first")
    if quarantine.count:
        console.print(f"[yellow]rejected {quarantine.count:,} records[/] -> {quarantine.path}")

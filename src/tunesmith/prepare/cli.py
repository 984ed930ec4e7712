"""`tunesmith prepare`, `scan` and `negatives`: the data side of a run, and checks on files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tunesmith import atomic
from tunesmith.console import console
from tunesmith.errors import TunesmithError
from tunesmith.options import (
    OutputOption,
    SetOption,
    load_recipe,
)

app = typer.Typer()


@app.command()
def prepare(
    recipe: Annotated[Path, typer.Argument(help="The recipe YAML file.")],
    set_: SetOption = None,
    output: OutputOption = None,
    overwrite: Annotated[bool, typer.Option(help="Reuse an output folder that holds a run.")] = False,
) -> None:
    """Read, clean, quarantine and split the data into OUTPUT/data.

    Examples:

        tunesmith prepare recipe.yaml --output runs/faq
    """
    from tunesmith.bundle import check_output_free, default_output, start_run_folder
    from tunesmith.prepare.stage import prepare as prepare_stage

    resolved = load_recipe(recipe, set_)
    run_dir = output or default_output(resolved)
    check_output_free(run_dir, overwrite)
    start_run_folder(resolved, run_dir)
    prepare_stage(resolved, run_dir)
    console.print(f"next: tunesmith train {run_dir}")


@app.command()
def scan(
    path: Annotated[Path, typer.Argument(help="A file or folder (e.g. a run folder).")],
    canary: Annotated[
        list[str] | None, typer.Option(help="Also look for this exact value (repeatable).")
    ] = None,
) -> None:
    """Scan files for personal data; exit 1 when any is found.

    Examples:

        tunesmith scan runs/faq

        tunesmith scan exports/ --canary 13812345678
    """
    from rich.table import Table

    from tunesmith.data.pii.scan import scan as scan_path

    if not path.exists():
        raise TunesmithError(f"{path}: no such file or folder")
    report = scan_path(path, tuple(canary or ()))
    if not report.total:
        console.print(f"no personal data found in {report.files} files under {path}")
        return
    table = Table(title=f"personal data in {path}")
    table.add_column("file")
    table.add_column("found")
    for file, counts in report.by_file.items():
        table.add_row(file, ", ".join(f"{k} {v}" for k, v in counts.items()))
    console.print(table)
    for example in report.examples[:10]:
        console.print(f"  {example}")
    raise typer.Exit(1)


@app.command()
def negatives(
    data: Annotated[Path, typer.Argument(help="Question-answer records (JSON, JSONL, CSV, TSV, Parquet).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the pairs (JSONL).")],
    question: Annotated[str, typer.Option(help="Field of the question.")] = "question",
    answer: Annotated[str, typer.Option(help="Field of the right answer.")] = "answer",
    category: Annotated[str | None, typer.Option(help="Field of the category (for 'category').")] = None,
    method: Annotated[str, typer.Option(help="random | category | bm25 (hard negatives).")] = "bm25",
    per_question: Annotated[int, typer.Option(help="Wrong answers per question.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed for random choices.")] = 42,
) -> None:
    """Build question-answer pairs with wrong answers (label 0) beside the right ones (label 1).

    A wrong answer is never a near-duplicate of the right one. Records without a question or an
    answer go to OUT.rejected.jsonl with the reason.

    Example:

        tunesmith negatives faq.csv -o pairs.jsonl --method bm25 --per-question 3
    """
    from tunesmith.data.negatives import METHODS, build_pairs
    from tunesmith.data.pairs_file import read_qa_records

    if method not in METHODS:
        raise TunesmithError(f"--method {method!r}: use one of {', '.join(METHODS)}")
    records, rejected = read_qa_records(data, question, answer, category, out.with_suffix(".rejected.jsonl"))
    if not records:
        raise TunesmithError(f"{data}: no record has both '{question}' and '{answer}'")
    pairs, report = build_pairs(records, per_question, method, seed)  # type: ignore[arg-type]
    atomic.write_text(out, "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs))
    counts = ", ".join(f"{kind} {n:,}" for kind, n in report.pairs.items())
    console.print(f"wrote {len(pairs):,} pairs to {out} ({counts})")
    if report.skipped_near_duplicates:
        console.print(f"skipped {report.skipped_near_duplicates:,} candidates too close to the right answer")
    if report.questions_short_of_negatives:
        console.print(
            f"[yellow]{report.questions_short_of_negatives:,} questions got fewer than {per_question} "
            "wrong answers[/] (too few other answers in their category?)"
        )
    if rejected:
        console.print(f"[yellow]rejected {rejected:,} records[/] -> {out.with_suffix('.rejected.jsonl')}")

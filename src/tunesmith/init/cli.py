"""`tunesmith init`: read a data file and write the recipe that fits it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunesmith.console import console
from tunesmith.errors import TunesmithError

app = typer.Typer()


@app.command()
def init(
    data: Annotated[Path, typer.Argument(help="A JSON, JSONL, CSV, TSV, Parquet or text file, or a folder.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the recipe.")] = Path("recipe.yaml"),
    force: Annotated[bool, typer.Option(help="Replace an existing recipe file.")] = False,
    explain: Annotated[bool, typer.Option(help="Print the analysis; write nothing.")] = False,
    task: Annotated[str | None, typer.Option(help="The task type, instead of the detected one.")] = None,
    text: Annotated[
        str | None, typer.Option(help="The text field (or a template: 'amount {amount} at {shop}').")
    ] = None,
    label: Annotated[str | None, typer.Option(help="The label field ('none': no label).")] = None,
    pair: Annotated[str | None, typer.Option(help="The second text (matching, extractive QA).")] = None,
) -> None:
    """Inspect DATA and write a recipe: what each column holds, the task, the fields, the
    language and model, the split - each with its reason and the runner-up.

    Examples:

        tunesmith init faq.jsonl

        tunesmith init pairs.tsv --explain

        tunesmith init clauses.jsonl --label unfair_categories --out clauses.yaml

        tunesmith init reviews/             # one file per label: neg.txt, pos.txt
    """
    from tunesmith.init.plan import analyse
    from tunesmith.init.stage import Wishes, findings, write_recipe

    wishes = Wishes(task, text, label, pair)
    if explain:
        print("\n".join(findings(analyse(data, wishes))))  # the analysis is the output: stdout
        return
    if out.exists() and not force:
        raise TunesmithError(f"{out} exists; pass --force to replace it or --out another path")
    path, plan = write_recipe(data, out, wishes)
    for line in findings(plan):
        console.print(line, markup=False, highlight=False)
    console.print(f"wrote {path} (the reasons are in its comments); next: tunesmith run {path}")

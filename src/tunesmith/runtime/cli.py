"""`tunesmith predict`: answer from a finished run, with the fastest proven backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from tunesmith.errors import TunesmithError
from tunesmith.options import (
    RunDir,
)
from tunesmith.runtime.formats import BACKEND_HELP

app = typer.Typer()
BackendOption = Annotated[str, typer.Option("--backend", help=BACKEND_HELP)]


@app.command()
def predict(
    run_dir: RunDir,
    text: Annotated[
        str | None, typer.Argument(help="One text (a tabular run: one row as a JSON object).")
    ] = None,
    pair: Annotated[
        str | None, typer.Option("--pair", help="Second text: the context (QA) or a candidate (matching).")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            help="JSONL with 'text' (and 'text_pair') fields, or plain lines; a tabular run reads rows "
            "from any data file prepare reads (CSV, TSV, JSON, JSONL, Parquet).",
        ),
    ] = None,
    backend: BackendOption = "auto",
) -> None:
    """Answer one text, or every line of --file; prints JSON on stdout.

    Examples:

        tunesmith predict runs/faq "如何重置密码?"

        tunesmith predict runs/qa "who signed?" --pair "The contract was signed by ACME."

        tunesmith predict runs/faq --file inputs.jsonl > answers.jsonl

        tunesmith predict runs/fraud '{"amount": 8000.5, "type": "TRANSFER", "hour": 2}'

        tunesmith predict runs/fraud --file transactions.csv > answers.jsonl
    """
    from tunesmith.runtime.predict import Predictor

    if (text is None) == (file is None):
        raise TunesmithError("give either one TEXT or --file FILE")
    predictor = Predictor.from_run(run_dir, backend=backend)
    rows = "columns" in predictor.task.inputs  # a tabular run reads a row's columns
    if text is not None:
        example = (
            row_argument(text)
            if rows
            else {"text": text}
            if pair is None
            else {"text": text, "text_pair": pair}
        )
        print(json.dumps(predictor.predict_raw([example])[0], ensure_ascii=False))
        return
    examples = read_rows(file) if rows else read_inputs(file)  # type: ignore[arg-type]
    for answer in predictor.predict_raw(examples, show=True):
        print(json.dumps(answer, ensure_ascii=False))


def row_argument(text: str) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        record = None
    if not isinstance(record, dict):
        raise TunesmithError(
            "a tabular run answers a row: give it as a JSON object, e.g. '{\"amount\": 12.5}'"
        )
    return {"record": record}


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Every record of a data file as a row to answer (a JSONL line may also be a request,
    {"record": {...}}); an unreadable one is named."""
    from tunesmith.data.read import Unreadable, read_records

    rows = []
    for line, record in read_records(path):
        if isinstance(record, Unreadable) or not isinstance(record, dict):
            reason = record.reason if isinstance(record, Unreadable) else "not an object of columns"
            raise TunesmithError(f"{path}:{line}: {reason}")
        wrapped = set(record) == {"record"} and isinstance(record["record"], dict)
        rows.append({"record": record["record"] if wrapped else record})
    return rows


def read_inputs(path: Path, required: tuple[str, ...] = ("text",)) -> list[dict[str, Any]]:
    """JSONL objects with the `required` fields (and an optional 'text_pair'), read as strings;
    when only 'text' is required, a line that is not an object is a text. A bad line is named."""
    wanted = "a 'text' field" if required == ("text",) else " and ".join(f"'{f}'" for f in required)
    examples = []
    with path.open(encoding="utf-8-sig") as handle:
        for line_no, line in enumerate(handle, start=1):
            line = line.strip()
            if not line:
                continue
            if not line.startswith("{") and required == ("text",):
                examples.append({"text": line})
                continue
            try:
                record = json.loads(line)
                # a label stays as written (a list for multi-label, a number for regression)
                example = {f: record[f] if f == "label" else str(record[f]) for f in required}
            except (json.JSONDecodeError, KeyError, TypeError):
                raise TunesmithError(f"{path}:{line_no}: expected a JSON object with {wanted}") from None
            if record.get("text_pair") is not None:
                example["text_pair"] = str(record["text_pair"])
            examples.append(example)
    return examples

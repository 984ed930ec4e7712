"""`tunesmith models` and `recommend`: the pretrained models available offline, and the pick."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunesmith.console import console
from tunesmith.errors import TunesmithError

app = typer.Typer()


models_app = typer.Typer(help="Pretrained models: what is available offline here.", no_args_is_help=True)


app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list() -> None:
    """Every model tunesmith knows: kind, size, languages, licence, and whether it can train here
    without a download."""
    from rich.table import Table

    from tunesmith.models.available import list_models

    table = Table()
    table.add_column("model", overflow="fold", min_width=16)
    for column in ("kind", "params", "languages", "domain", "licence", "ready", "how"):
        table.add_column(column, overflow="fold")
    for item in list_models():
        model = item.model
        table.add_row(
            model.name,
            model.kind,
            f"{model.parameters / 1e6:.0f}M",
            ", ".join(model.languages),
            model.domain,
            model.licence,
            "yes" if item.ready else "no",
            item.where,
        )
    console.print(table)


@models_app.command("import")
def models_import(
    source: Annotated[
        Path,
        typer.Argument(
            help="A .gguf file (llama.cpp format), or a model folder written by save_pretrained "
            "(config.json, *.safetensors, tokenizer files).",
            exists=True,
        ),
    ],
    name: Annotated[
        str | None,
        typer.Option(help="Name to use as model.name (default: the file's stem, the folder's name)."),
    ] = None,
) -> None:
    """Bring a model into the cache once, with checksums: a GGUF file is converted to safetensors,
    a model folder (a Marian opus-mt, NLLB or mT5 translation model copied from a connected
    machine) is copied.

    Examples:

        tunesmith models import ~/models/qwen2.5-0.5b-instruct-q8_0.gguf --name qwen-small

        tunesmith models import ~/models/opus-mt-en-zh --name opus-mt-en-zh
    """
    if source.is_dir():
        from tunesmith.models.imported import import_folder

        out = import_folder(source, name)
    else:
        from tunesmith.models.gguf import import_gguf

        out = import_gguf(source, name)
    console.print(f"use it with model.name: {out.name}")


@models_app.command("verify")
def models_verify(
    name: Annotated[str, typer.Argument(help="An imported or packaged model name, or a converted folder.")],
) -> None:
    """Check a converted model against the checksums recorded when it was converted."""
    from tunesmith.models.imported import verify
    from tunesmith.models.resolve import resolve_model

    folder = Path(name) if Path(name).is_dir() else resolve_model(name)
    problems = verify(folder)
    if problems:
        for problem in problems:
            console.print(f"[red]x[/] {problem}")
        raise typer.Exit(1)
    console.print(f"[green]ok[/] {folder}: every file matches its recorded checksum")


@app.command()
def recommend(
    task: Annotated[str, typer.Option(help="classification, multilabel, regression, seq2seq, causal_lm ...")],
    language: Annotated[str, typer.Option(help="zh, en, mixed, or another language code.")] = "en",
    domain: Annotated[str, typer.Option(help="general, legal, medical, finance, science, code.")] = "general",
    max_memory: Annotated[str | None, typer.Option(help="Training memory budget, e.g. 8GB.")] = None,
    max_latency_ms: Annotated[float | None, typer.Option(help="Latency budget per text, here.")] = None,
    batch_size: Annotated[int, typer.Option(help="Training batch size.")] = 32,
    max_length: Annotated[int, typer.Option(help="Tokens per text.")] = 128,
    measure: Annotated[bool, typer.Option(help="Also time the candidates available offline.")] = False,
    top: Annotated[int, typer.Option(help="Rows to show.")] = 8,
) -> None:
    """Rank pretrained models for a task, language, domain and budget, and say why.

    Memory is estimated for fp32 AdamW training at the batch and length given; latency from the
    forward FLOPs and this machine's measured matrix-multiply rate.

    Example:

        tunesmith recommend --task classification --language zh --max-memory 8GB --max-latency-ms 50
    """
    from rich.table import Table

    from tunesmith.models.recommend import measure_flops, measure_latency, parse_bytes
    from tunesmith.models.recommend import recommend as rank

    try:
        budget = parse_bytes(max_memory) if max_memory else None
        flops = measure_flops()
        candidates = rank(task, language, domain, budget, max_latency_ms, batch_size, max_length, flops)
    except ValueError as error:
        raise TunesmithError(str(error)) from None
    console.print(f"this machine: {flops / 1e9:.0f} GFLOP/s (fp32 matmul); {task}, {language}, {domain}")
    table = Table()
    table.add_column("model", overflow="fold", min_width=16)
    for column in ("params", "train memory", "latency", "measured", "fits", "why"):
        table.add_column(column, overflow="fold")
    for candidate in candidates[:top]:
        measured = measure_latency(candidate, max_length) if measure and candidate.model.offline else None
        table.add_row(
            candidate.model.name,
            f"{candidate.model.parameters / 1e6:.0f}M",
            f"{candidate.memory_bytes / 1e9:.1f} GB",
            f"{candidate.latency_ms:.0f} ms",
            f"{measured:.0f} ms" if measured is not None else "",
            "yes" if candidate.fits else "no",
            "; ".join(candidate.reasons),
        )
    console.print(table)

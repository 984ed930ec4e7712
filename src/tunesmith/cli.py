"""The `tunesmith` command: the root that mounts each stage's commands (`<stage>/cli.py`), in the
order a user meets them, and turns errors into one line and an exit code."""

from __future__ import annotations

import os
import sys

import typer

from tunesmith.annotate.cli import app as annotate_app
from tunesmith.console import console
from tunesmith.errors import GatesFailed, TrainingStopped, TunesmithError
from tunesmith.evaluate.cli import app as evaluate_app
from tunesmith.export.cli import app as export_app
from tunesmith.init.cli import app as init_app
from tunesmith.insights.cli import app as insights_app
from tunesmith.models.cli import app as models_app
from tunesmith.pipeline.cli import app as pipeline_app
from tunesmith.prepare.cli import app as prepare_app
from tunesmith.runs.cli import app as runs_app
from tunesmith.runtime.cli import app as runtime_app
from tunesmith.serve.cli import app as serve_app
from tunesmith.train.cli import app as train_app
from tunesmith.web.cli import app as web_app

app = typer.Typer(
    name="tunesmith",
    help="Offline-first line from raw records to a tested, served model.\n\n"
    "Start with `tunesmith init DATA` then `tunesmith run recipe.yaml`.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)
for stage_app in (init_app, prepare_app, train_app, evaluate_app, export_app, pipeline_app, runtime_app):
    app.add_typer(stage_app)
for stage_app in (serve_app, web_app, models_app, runs_app, insights_app):
    app.add_typer(stage_app)
app.add_typer(annotate_app, name="annotate")


# what the `train` extra installs (pyproject.toml): a slim install lacks them
TRAIN_MODULES = frozenset(
    {
        *("torch", "transformers", "datasets", "accelerate", "peft", "pyarrow", "charset_normalizer"),
        *("sklearn", "scipy", "lightgbm", "onnx", "onnxmltools", "psutil", "matplotlib", "tensorboard"),
        *("jieba", "faker", "rank_bm25", "seqeval", "sacrebleu", "rouge_score", "fairlearn", "xgboost"),
    }
)


def main() -> None:
    from rich.markup import escape

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        app()
    except TrainingStopped as stopped:
        console.print(f"[yellow]{escape(str(stopped))}[/]")
        sys.exit(130)
    except GatesFailed as failed:
        console.print(f"[bold red]not releasable:[/] {escape(str(failed))}")
        sys.exit(3)
    except TunesmithError as error:
        console.print(f"[bold red]error:[/] {escape(str(error))}")
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("[yellow]stopped[/]")
        sys.exit(130)
    except ModuleNotFoundError as missing:
        if missing.name is None or missing.name.split(".")[0] not in TRAIN_MODULES:
            raise
        console.print(
            f"[bold red]error:[/] this command needs {missing.name.split('.')[0]}, part of the training "
            "install: pip install 'tunesmith\\[train]' (a slim install answers with ONNX exports only)"
        )
        sys.exit(2)


if __name__ == "__main__":
    main()

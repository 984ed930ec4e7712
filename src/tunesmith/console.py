"""The one rich console (on stderr, so `predict` can print clean JSON on stdout) and progress bars."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True, highlight=False, soft_wrap=True)


def quiet_transformers() -> None:
    """Load reports and per-weight progress bars drown the messages a user needs."""
    import datasets
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()


def progress(total_known: bool = True, show: bool = True) -> Progress:
    """A progress display: a bar with ETA when the total is known, a live counter otherwise.

    With `show=False` nothing is drawn and no refresh thread starts (the server's hot path).
    """
    columns = [SpinnerColumn(), TextColumn("[progress.description]{task.description}")]
    if total_known:
        columns += [BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    else:
        columns += [TextColumn("{task.completed:,} records"), TimeElapsedColumn()]
    return Progress(*columns, console=console, transient=False, disable=not show)

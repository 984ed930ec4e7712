"""Options more than one stage's commands take (recipe overrides, run folders, distributed
training, where to listen), so each reads the same on every command."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from tunesmith.recipe import Recipe

SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a recipe key, e.g. --set training.epochs=3 (repeatable)."),
]
TimeLimitOption = Annotated[
    str | None,
    typer.Option(
        "--time-limit",
        help="Time for fitting every learner, e.g. 20m, 1h30m, 900 (training.time_limit): the fast "
        "learners first, the transformer with what remains.",
    ),
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Run folder (default runs/<recipe name>).")
]
RunDir = Annotated[Path, typer.Argument(help="A run folder written by `tunesmith run`.")]
ResumeOption = Annotated[
    bool, typer.Option("--resume", help="Continue from the last complete checkpoint in the run folder.")
]
NprocOption = Annotated[int, typer.Option("--nproc", help="Training processes on this node (torchrun).")]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Train even when the prepared splits look unusable (collapsed by duplicates, a label missing).",
    ),
]
# `serve` and `console`: where to listen, and whether keys are required (serve/settings.default_auth).
HostOption = Annotated[str, typer.Option(help="Address to bind; beyond localhost, API keys are required.")]
AuthOption = Annotated[
    bool | None,
    typer.Option(
        "--auth/--no-auth", help="Require keys (default: when keys are given or host is not local)."
    ),
]
NnodesOption = Annotated[int, typer.Option("--nnodes", help="Nodes in the job; each runs this command.")]
NodeRankOption = Annotated[int, typer.Option("--node-rank", help="This node's rank, 0 .. nnodes-1.")]
MasterAddrOption = Annotated[str, typer.Option("--master-addr", help="Address of the rank-0 node.")]
MasterPortOption = Annotated[int, typer.Option("--master-port", help="Port on the rank-0 node.")]


def load_recipe(recipe_path: Path, overrides: list[str] | None, time_limit: str | None = None) -> Recipe:
    """The recipe file with `--set` overrides (and `--time-limit`) applied, validated (the recipe
    module loads on use)."""
    from tunesmith import recipe as recipe_io

    extra = [f"training.time_limit={time_limit}"] if time_limit is not None else []
    return recipe_io.load(recipe_path, [*(overrides or []), *extra])

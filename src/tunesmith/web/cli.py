"""`tunesmith console`: the web console."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunesmith.console import console
from tunesmith.options import (
    AuthOption,
    HostOption,
)

app = typer.Typer()


@app.command("console")
def console_command(
    root: Annotated[Path, typer.Option(help="Folder that holds the run folders (made if missing).")] = Path(
        "runs"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    host: HostOption = "127.0.0.1",
    data: Annotated[
        Path | None, typer.Option("--data", help="A folder whose data files can be picked for a new run.")
    ] = None,
    api_keys: Annotated[
        Path | None,
        typer.Option(
            help="Key file from `tunesmith keys create` (--scope read or run; or TUNESMITH_API_KEYS)."
        ),
    ] = None,
    auth: AuthOption = None,
    max_upload_mb: Annotated[
        float, typer.Option(min=0.001, help="Largest data file an upload may be.")
    ] = 100.0,
    parallel: Annotated[int, typer.Option(min=1, help="Runs that execute at once; the rest wait.")] = 1,
    server: Annotated[
        str | None, typer.Option(help="A `tunesmith serve` URL to show on the served-models page.")
    ] = None,
    server_key_file: Annotated[
        Path | None,
        typer.Option(help="File with that server's admin key (or set TUNESMITH_SERVER_KEY)."),
    ] = None,
) -> None:
    """A web console over the runs under --root: list and read runs, start one from an uploaded
    file (init's guesses as a form), watch it train, compare two, try a model, see a server.

    Examples:

        tunesmith console --root runs --port 8080

        tunesmith console --root runs --data /srv/exports --parallel 2

        tunesmith console --host 0.0.0.0 --api-keys keys.json --server http://127.0.0.1:8000
    """
    import uvicorn

    from tunesmith.web.app import create_app
    from tunesmith.web.settings import settle

    settings = settle(root, data, host, auth, api_keys, max_upload_mb, parallel, server, server_key_file)
    console.print(
        f"console on http://{host}:{port} over {settings.root} "
        f"(keys {'on' if settings.auth else 'off'}; {parallel} run(s) at a time)"
    )
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")

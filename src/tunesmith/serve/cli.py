"""`tunesmith serve` and `tunesmith keys`: the HTTP service and its API keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tunesmith.console import console
from tunesmith.errors import TunesmithError
from tunesmith.options import (
    AuthOption,
    HostOption,
)
from tunesmith.runtime.cli import BackendOption

app = typer.Typer()


@app.command()
def serve(
    runs: Annotated[
        list[str],
        typer.Argument(help="Run folders to serve, RUN or NAME=RUN; the first gets the traffic by default."),
    ],
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Processes, each with the model loaded once.")] = 1,
    threads: Annotated[
        int | None, typer.Option(min=1, help="Compute threads per worker (default: cores / workers).")
    ] = None,
    split: Annotated[str | None, typer.Option(help="Traffic weights, e.g. v1=90,v2=10.")] = None,
    sticky_header: Annotated[
        str | None, typer.Option(help="Header (e.g. X-User-Id) that keeps each user on one version.")
    ] = None,
    shadow: Annotated[
        list[str] | None,
        typer.Option(help="A run (or NAME=RUN) that gets a copy of the traffic and never answers."),
    ] = None,
    max_batch_size: Annotated[int | None, typer.Option(min=1, help="Most texts in one model call.")] = None,
    max_wait_ms: Annotated[
        float | None, typer.Option(min=0, help="Longest a text waits for its batch.")
    ] = None,
    max_queue: Annotated[int | None, typer.Option(min=1, help="Texts waiting at most (503 beyond).")] = None,
    buckets: Annotated[
        bool | None,
        typer.Option("--buckets/--no-buckets", help="Cut a batch into model calls of like-length texts."),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(min=0.001, help="Deadline of a request in seconds (504).")
    ] = None,
    max_texts: Annotated[
        int | None, typer.Option(min=1, help="Most texts in one request (413 beyond).")
    ] = None,
    backend: BackendOption = "auto",
    api_keys: Annotated[
        Path | None, typer.Option(help="Key file from `tunesmith keys create` (or set TUNESMITH_API_KEYS).")
    ] = None,
    auth: AuthOption = None,
    rate_limit: Annotated[
        float, typer.Option(help="Requests per minute per key (a key's own limit wins).")
    ] = 600.0,
    open_health: Annotated[
        bool,
        typer.Option(
            help="Serve /health, /ready, /v2/health/* and /metrics without a key (probes, Prometheus)."
        ),
    ] = False,
    cors_origin: Annotated[
        list[str] | None, typer.Option(help="Allow browser calls from this origin.")
    ] = None,
    ssl_certfile: Annotated[Path | None, typer.Option(help="TLS certificate (PEM): serve HTTPS.")] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    state_dir: Annotated[
        Path,
        typer.Option(help="Folder for answers.jsonl, feedback.jsonl (read by `tunesmith ab-test`), routing."),
    ] = Path("serve-state"),
    log_text: Annotated[
        str, typer.Option(help="What logs keep of a text: hash, deidentified or none (never the raw text).")
    ] = "hash",
    safety_list: Annotated[
        Path | None,
        typer.Option(help="YAML of blocked terms and topics, and the refusal, for /v1/answer."),
    ] = None,
    rewriter: Annotated[
        Path | None,
        typer.Option(help="A causal_lm run that rewrites /v1/answer's answers in the conversation's tone."),
    ] = None,
    answer_threshold: Annotated[
        float | None,
        typer.Option(help="/v1/answer hands over below this score (default: tuned on validation)."),
    ] = None,
) -> None:
    """Serve runs over HTTP with dynamic batching: /v1/predict, /v1/answer (knowledge-base answers
    of a matching run, behind a safety filter), /v1/feedback, the KServe V2
    protocol (/v2), OpenAI-compatible /v1/embeddings and /v1/chat/completions, a WebSocket at
    /v1/ws, /metrics, /admin and docs at /docs.

    Examples:

        tunesmith serve runs/faq --port 8000

        tunesmith serve v1=runs/faq v2=runs/faq-new --split v1=90,v2=10 --sticky-header X-User-Id

        tunesmith serve runs/faq --host 0.0.0.0 --workers 2 --api-keys keys.json --open-health

        curl -s localhost:8000/v1/predict -H 'content-type: application/json' -d '{"text": "hi"}'
    """
    from pydantic import ValidationError

    from tunesmith.serve.launch import serve as run_server
    from tunesmith.serve.launch import settle
    from tunesmith.serve.settings import parse_runs, parse_split

    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise TunesmithError("TLS needs both --ssl-certfile and --ssl-keyfile")
    if log_text not in ("hash", "deidentified", "none"):
        raise TunesmithError(f"--log-text {log_text}: use hash, deidentified or none")
    served = parse_runs(runs)
    options: dict[str, Any] = {
        "runs": served,
        "shadow": parse_runs(shadow or [], set(served)),
        "split": parse_split(split) if split else {},
        "sticky_header": sticky_header,
        "backend": backend,
        "max_batch_size": max_batch_size,
        "max_wait_ms": max_wait_ms,
        "max_queue": max_queue,
        "buckets": buckets,
        "timeout_s": timeout,
        "max_texts": max_texts,
        "threads": threads,
        "workers": workers,
        "host": host,
        "auth": auth,
        "keys_file": str(api_keys) if api_keys else None,
        "rate_limit": rate_limit,
        "open_health": open_health,
        "cors_origins": cors_origin or [],
        "state_dir": str(state_dir),
        "log_text": log_text,
        "safety_list": str(safety_list) if safety_list else None,
        "rewriter": str(rewriter.resolve()) if rewriter else None,
        "answer_threshold": answer_threshold,
    }
    try:
        settings = settle(options)
    except ValidationError as error:  # pydantic's check of the settings: one line per problem
        raise TunesmithError(
            "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        ) from None
    run_server(
        settings, port, str(ssl_certfile) if ssl_certfile else None, str(ssl_keyfile) if ssl_keyfile else None
    )


keys_app = typer.Typer(help="API keys of `tunesmith serve`.", no_args_is_help=True)


app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Who or what uses the key (shown in logs).")],
    file: Annotated[Path, typer.Option(help="Key file (only hashes are stored in it).")] = Path("keys.json"),
    scope: Annotated[
        list[str] | None,
        typer.Option(
            help="predict (default) or admin for the server; read or run for the console; repeatable."
        ),
    ] = None,
    rate_limit: Annotated[float | None, typer.Option(help="Requests per minute for this key.")] = None,
) -> None:
    """Make a new API key: its hash goes to FILE, the key is printed once.

    Example:

        tunesmith keys create crm --file keys.json --scope predict
    """
    from tunesmith.serve.auth import create_key

    key = create_key(file, name, scope or ["predict"], rate_limit)
    console.print(
        f"key '{name}' added to {file} (scopes: {', '.join(scope or ['predict'])}); it is shown only now:"
    )
    print(key)

"""`tunesmith serve`: check the runs, settle the settings (flags over the first run's recipe),
then run uvicorn with N workers, each building the app from the settings in its environment.
uvicorn's supervisor replaces a worker that dies; SIGTERM stops accepting, lets every accepted
request finish (the batchers drain), then exits."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tunesmith.console import console
from tunesmith.errors import BundleError, TunesmithError
from tunesmith.serve.settings import ServeSettings, default_auth
from tunesmith.serve.versions import ROUTING_FILE, write_routing

GRACEFUL_SECONDS = 30


def check_run(name: str, run_dir: Path) -> None:
    """What a user gets wrong often fails here, before any worker starts (a changed file is found
    by the worker's checksum check and shown on /ready)."""
    from tunesmith.bundle import LABELS_FILE, MODEL_DIR

    if not run_dir.is_dir():
        raise TunesmithError(f"{run_dir}: no such run folder")
    if not (run_dir / MODEL_DIR / LABELS_FILE).is_file():  # every trained model's bundle holds it
        raise BundleError(
            f"{run_dir}: not a finished run (no trained model); run `tunesmith train {run_dir}`"
        )
    if not (run_dir / "manifest.json").is_file():
        raise BundleError(f"{run_dir}: not a finished run (no manifest.json); finish it with `tunesmith run`")


def settle(options: dict[str, Any]) -> ServeSettings:
    """Settings from the flags; batching keys the flags leave unset come from the first run's recipe."""
    from tunesmith.recipe import load_resolved

    runs: dict[str, str] = options["runs"]
    for name, path in {**runs, **options.get("shadow", {})}.items():
        check_run(name, Path(path))
    recipe = load_resolved(Path(next(iter(runs.values()))))
    values = {k: v for k, v in options.items() if v is not None}
    for key, value in recipe.serve.model_dump().items():
        values.setdefault(key, value)
    values.setdefault("model_name", recipe.name)
    cores = os.cpu_count() or 1
    values.setdefault("threads", max(1, cores // values.get("workers", 1)))
    host = values.get("host", "127.0.0.1")
    keys_given = bool(values.get("keys_file") or os.environ.get("TUNESMITH_API_KEYS"))
    values["auth"] = default_auth(values.get("auth"), keys_given, host)
    settings = ServeSettings(**values)
    if settings.rewriter:
        check_run("rewriter", Path(settings.rewriter))
        kind = load_resolved(Path(settings.rewriter)).task.type
        if kind != "causal_lm":
            raise TunesmithError(f"--rewriter {settings.rewriter}: a {kind} run; it must be causal_lm")
    if settings.safety_list:
        from tunesmith.serve.safety import SafetyFilter

        SafetyFilter(settings.safety_list, Path(settings.state_dir))  # a broken list fails here, once
    if settings.auth and not keys_given:
        raise TunesmithError(
            f"serving on {host} needs API keys: make one with `tunesmith keys create NAME --file keys.json` "
            "and pass --api-keys keys.json (or set TUNESMITH_API_KEYS); --no-auth serves without keys"
        )
    if settings.auth:
        from tunesmith.serve.auth import load_keys

        if not load_keys(settings.keys_file):
            raise TunesmithError(f"{settings.keys_file or 'TUNESMITH_API_KEYS'}: holds no keys")
    return settings


def serve(settings: ServeSettings, port: int, ssl_certfile: str | None, ssl_keyfile: str | None) -> None:
    import uvicorn

    state = Path(settings.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    write_routing(state / ROUTING_FILE, settings.weights, [], {})  # the command line's split wins
    metrics_dir = None
    if settings.workers > 1:  # prometheus-client adds up the workers' figures from this folder
        metrics_dir = tempfile.mkdtemp(prefix="tunesmith-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    os.environ.update(settings.to_env())
    scheme = "https" if ssl_certfile else "http"
    versions = ", ".join(f"{n}={p}" for n, p in settings.runs.items())
    console.print(
        f"serving {versions} on {scheme}://{settings.host}:{port} ({settings.workers} worker(s) x "
        f"{settings.threads} thread(s); keys {'on' if settings.auth else 'off'}; docs at /docs)"
    )
    uvicorn.run(
        "tunesmith.serve.app:from_environment",
        factory=True,
        host=settings.host,
        port=port,
        workers=settings.workers,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        loop="auto",
        http="auto",
    )
    if metrics_dir is not None:
        shutil.rmtree(metrics_dir, ignore_errors=True)

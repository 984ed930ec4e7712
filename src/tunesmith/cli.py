"""The `tunesmith` command line: one verb per stage, plus `run` for the whole line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tunesmith import atomic
from tunesmith.annotate.cli import app as annotate_app
from tunesmith.console import console
from tunesmith.errors import GatesFailed, TrainingStopped, TunesmithError
from tunesmith.runtime.formats import BACKEND_HELP

app = typer.Typer(
    name="tunesmith",
    help="Offline-first line from raw records to a tested, served model.\n\n"
    "Start with `tunesmith init DATA` then `tunesmith run recipe.yaml`.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)
app.add_typer(annotate_app, name="annotate")

SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a recipe key, e.g. --set training.epochs=3 (repeatable)."),
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
BackendOption = Annotated[str, typer.Option("--backend", help=BACKEND_HELP)]
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


def _processes(nproc: int, nnodes: int, node_rank: int, master_addr: str, master_port: int):  # type: ignore[no-untyped-def]
    from tunesmith.train.launch import Processes

    processes = Processes(nproc, nnodes, node_rank, master_addr, master_port)
    processes.check()
    return processes


def _load(recipe_path: Path, overrides: list[str] | None):  # type: ignore[no-untyped-def]
    from tunesmith import recipe as recipe_io

    return recipe_io.load(recipe_path, overrides or [])


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
    from tunesmith.init import Wishes, findings, write_recipe
    from tunesmith.init.plan import analyse

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
    from tunesmith.pipeline.run import check_output_free, default_output, start_run_folder
    from tunesmith.prepare.stage import prepare as prepare_stage

    resolved = _load(recipe, set_)
    run_dir = output or default_output(resolved)
    check_output_free(run_dir, overwrite)
    start_run_folder(resolved, run_dir)
    prepare_stage(resolved, run_dir)
    console.print(f"next: tunesmith train {run_dir}")


@app.command()
def train(
    run_dir: RunDir,
    resume: ResumeOption = False,
    nproc: NprocOption = 1,
    nnodes: NnodesOption = 1,
    node_rank: NodeRankOption = 0,
    master_addr: MasterAddrOption = "127.0.0.1",
    master_port: MasterPortOption = 29500,
    force: ForceOption = False,
) -> None:
    """Fine-tune the recipe's model on RUN_DIR/data (after `prepare`).

    Checkpoints go to RUN_DIR/checkpoints every training.checkpoint_steps; Ctrl-C saves one and
    stops. Several processes train with DDP through torchrun (FSDP or DeepSpeed by
    training.distributed); rank 0 alone writes.

    Examples:

        tunesmith train runs/faq

        tunesmith train runs/faq --resume

        tunesmith train runs/faq --nproc 4

        tunesmith train runs/faq --nproc 8 --nnodes 2 --node-rank 0 --master-addr 10.0.0.1
    """
    from tunesmith.train.stage import train as train_stage

    processes = _processes(nproc, nnodes, node_rank, master_addr, master_port)
    train_stage(run_dir, resume=resume, processes=processes, force=force)
    console.print(f"next: tunesmith evaluate {run_dir}")


@app.command()
def evaluate(
    run_dir: RunDir,
    backend: Annotated[
        str,
        typer.Option(
            "--backend", help="torch (the trained model) or an export: onnx, onnx-int8, torchscript, auto."
        ),
    ] = "torch",
) -> None:
    """Score RUN_DIR's model on validation and test, then write the manifest.

    Examples:

        tunesmith evaluate runs/faq

        tunesmith evaluate runs/faq --backend onnx-int8     # the model that will be shipped
    """
    from tunesmith.evaluate.stage import evaluate as evaluate_stage
    from tunesmith.evaluate.stage import raise_if_not_releasable
    from tunesmith.pipeline.run import bundle

    evaluate_stage(run_dir, backend)
    bundle(run_dir)
    raise_if_not_releasable(run_dir)
    console.print(f"next: tunesmith serve {run_dir}")


@app.command()
def export(
    run_dir: RunDir,
    format_: Annotated[str, typer.Option("--format", help="onnx or torchscript.")] = "onnx",
    quantize: Annotated[
        str | None, typer.Option("--quantize", help="int8 (with --format onnx): weights in 8 bits.")
    ] = None,
) -> None:
    """Export RUN_DIR's model and prove it on the run's test split: export/<format>/ holds the
    file and parity.json; the manifest is updated. A failed proof keeps nothing (exit 2).

    Examples:

        tunesmith export runs/faq --format onnx

        tunesmith export runs/faq --format onnx --quantize int8

        tunesmith export runs/faq --format torchscript
    """
    from tunesmith import recipe as recipe_io
    from tunesmith.bundle import read_json_if_present
    from tunesmith.evaluate.report import write_report
    from tunesmith.evaluate.stage import METRICS_FILE, judge_gates, raise_if_not_releasable
    from tunesmith.export.stage import export as export_stage
    from tunesmith.pipeline.run import bundle
    from tunesmith.runtime.formats import format_named
    from tunesmith.runtime.parity import eager_name

    fmt = format_named(format_, quantize)
    parity = export_stage(run_dir, fmt)
    speed, eager = parity["speed"], parity["reference"]
    console.print(f"{fmt.name}: {parity['verdict']}")
    console.print(
        f"one input: {speed[fmt.name]['latency_ms_p50']:.2f} ms ({speed[eager]['latency_ms_p50']:.2f} ms "
        f"{eager_name(eager)}); {parity['file']}"
    )
    judge_gates(run_dir, recipe_io.load_resolved(run_dir), read_json_if_present(run_dir / METRICS_FILE))
    write_report(run_dir)
    bundle(run_dir)
    raise_if_not_releasable(run_dir)
    console.print(f"next: tunesmith serve {run_dir} (--backend auto picks the fastest proven export)")


@app.command()
def distill(
    run_dir: RunDir,
    output: Annotated[Path, typer.Option("--output", "-o", help="The student's run folder.")],
    layers: Annotated[
        int | None, typer.Option(help="Encoder layers the student keeps (default: half the teacher's).")
    ] = None,
    unlabelled: Annotated[
        Path | None,
        typer.Option(help="More texts for the teacher to score (a data file read like the training data)."),
    ] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the texts.")] = 6,
    overwrite: Annotated[bool, typer.Option(help="Replace a run already at --output.")] = False,
) -> None:
    """Train a smaller student on RUN_DIR's answers: the same fine-tuned model with fewer layers,
    taught by the teacher's scores over its training texts (and --unlabelled ones). The student is
    a run like any other (evaluated, exported, bundled); distill.json holds the share of test
    answers it gives as the teacher does, beside both headline metrics.

    Examples:

        tunesmith distill runs/faq --output runs/faq-small

        tunesmith distill runs/faq --output runs/faq-small --layers 2 --unlabelled tickets.csv
    """
    from tunesmith.pipeline.distill import DistillOptions
    from tunesmith.pipeline.distill import distill as distill_run
    from tunesmith.pipeline.run import check_output_free

    check_output_free(output, overwrite)
    distill_run(run_dir, output, DistillOptions(layers=layers, unlabelled=unlabelled, epochs=epochs))
    console.print(f"next: tunesmith serve {output}")


@app.command()
def run(
    recipe: Annotated[Path, typer.Argument(help="The recipe YAML file.")],
    set_: SetOption = None,
    output: OutputOption = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a run already in OUTPUT.")] = False,
    resume: ResumeOption = False,
    nproc: NprocOption = 1,
    force: ForceOption = False,
) -> None:
    """The whole line: prepare -> train -> evaluate -> bundle.

    Examples:

        tunesmith run recipe.yaml

        tunesmith run recipe.yaml --set training.epochs=1 --set model.name=./my-model -o runs/try

        tunesmith run recipe.yaml --resume      # after a kill or Ctrl-C: same recipe, same output
    """
    from tunesmith.pipeline.run import default_output
    from tunesmith.pipeline.run import run as run_line

    resolved = _load(recipe, set_)
    processes = _processes(nproc, 1, 0, "127.0.0.1", 29500)
    run_line(resolved, output or default_output(resolved), overwrite, resume, processes, force)


@app.command()
def tune(
    recipe: Annotated[Path, typer.Argument(help="The recipe YAML file, with a tune.space section.")],
    trials: Annotated[int | None, typer.Option(help="Trials to run (default tune.trials).")] = None,
    set_: SetOption = None,
    output: OutputOption = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a run already in OUTPUT.")] = False,
    force: ForceOption = False,
) -> None:
    """Search hyperparameters with Optuna; the best trial becomes a normal run in OUTPUT.

    The study (trials, SQLite storage, history plot) lives in OUTPUT-tune; running the command
    again continues it.

    Examples:

        tunesmith tune recipe.yaml --trials 20

        tunesmith tune recipe.yaml --trials 5 --set training.epochs=1 -o runs/faq-tuned
    """
    from tunesmith.pipeline.run import default_output
    from tunesmith.pipeline.tune import tune as tune_study

    resolved = _load(recipe, set_)
    result = tune_study(resolved, output or default_output(resolved), trials, overwrite, force)
    shown = ", ".join(f"{k}={v}" for k, v in result.best_params.items())
    console.print(f"best values: {shown}")
    console.print(f"next: tunesmith serve {result.run_dir}")


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
            _row_argument(text)
            if rows
            else {"text": text}
            if pair is None
            else {"text": text, "text_pair": pair}
        )
        print(json.dumps(predictor.predict_raw([example])[0], ensure_ascii=False))
        return
    examples = _read_rows(file) if rows else _read_inputs(file)  # type: ignore[arg-type]
    for answer in predictor.predict_raw(examples, show=True):
        print(json.dumps(answer, ensure_ascii=False))


def _row_argument(text: str) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        record = None
    if not isinstance(record, dict):
        raise TunesmithError(
            "a tabular run answers a row: give it as a JSON object, e.g. '{\"amount\": 12.5}'"
        )
    return {"record": record}


def _read_rows(path: Path) -> list[dict[str, Any]]:
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


def _read_inputs(path: Path, required: tuple[str, ...] = ("text",)) -> list[dict[str, Any]]:
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


runs_app = typer.Typer(
    help="Runs side by side: `tunesmith runs` lists them, `runs compare A B` diffs two.",
    invoke_without_command=True,
)
app.add_typer(runs_app, name="runs")


@runs_app.callback()
def runs_list(
    ctx: typer.Context,
    root: Annotated[Path, typer.Option("--root", help="Folder that holds the run folders.")] = Path("runs"),
) -> None:
    """List the runs under --root (default runs/) with their key test metrics, oldest first.

    Examples:

        tunesmith runs

        tunesmith runs --root experiments/

        tunesmith runs compare runs/faq-1ep runs/faq-3ep
    """
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from tunesmith.runs.listing import KEY_METRICS, find_runs

    if not root.is_dir():
        raise TunesmithError(f"{root}: no such folder; pass --root with the folder that holds your runs")
    found = find_runs(root)
    if not found:
        console.print(f"no runs under {root}")
        return
    shown = [m for m in KEY_METRICS if any(m in info.metrics for info in found)][:4]
    table = Table(title=f"runs under {root}")
    for column in ("run", "status", "task", "model", "created", *shown, "train s"):
        table.add_column(column, overflow="fold")
    for info in found:
        table.add_row(
            str(info.path),
            info.status,
            info.task,
            Path(info.model).name,  # a local model folder shows as its name
            info.created[:16].replace("T", " "),
            *(f"{info.metrics[m]:.4f}" if m in info.metrics else "" for m in shown),
            f"{info.train_seconds:.0f}" if info.train_seconds else "",
        )
    console.print(table)


@runs_app.command("compare")
def runs_compare(
    a: Annotated[Path, typer.Argument(help="The first (baseline) run folder.")],
    b: Annotated[Path, typer.Argument(help="The second run folder.")],
) -> None:
    """What the two recipes set differently, and every metric both report with B - A.

    Example:

        tunesmith runs compare runs/faq-1ep runs/faq-3ep
    """
    from rich.table import Table

    from tunesmith.runs.compare import metric_deltas, recipe_diff

    for folder in (a, b):
        if not (folder / "recipe.yaml").is_file():
            raise TunesmithError(f"{folder}: not a run folder (no recipe.yaml)")
    diff = recipe_diff(a, b)
    recipe_table = Table(title="recipe differences")
    for column in ("key", str(a), str(b)):
        recipe_table.add_column(column, overflow="fold")
    for key, left, right in diff:
        recipe_table.add_row(key, str(left), str(right))
    console.print(recipe_table if diff else "the recipes are the same")
    deltas = metric_deltas(a, b)
    if not deltas:
        console.print("no metric reported by both runs (evaluate them first: tunesmith evaluate RUN)")
        return
    metric_table = Table(title="metrics (B - A)")
    for column in ("split", "metric", "A", "B", "B - A"):
        metric_table.add_column(column)
    for d in deltas:
        colour = "green" if d.delta > 0 else "red" if d.delta < 0 else ""
        change = f"{d.delta:+.4f}"
        metric_table.add_row(
            d.split, d.metric, f"{d.a:.4f}", f"{d.b:.4f}", f"[{colour}]{change}[/]" if colour else change
        )
    console.print(metric_table)


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="Run A (the current model).")],
    run_b: Annotated[Path, typer.Argument(help="Run B (the candidate).")],
    data: Annotated[
        Path | None,
        typer.Option("--data", help="JSONL of {text, label} records (default: A's own test split)."),
    ] = None,
    backend: BackendOption = "auto",
) -> None:
    """Offline A/B: both models on the same records; each headline metric's difference with a
    paired bootstrap 95% interval and p-value (McNemar's exact test for classification accuracy,
    sacrebleu's paired bootstrap for BLEU and chrF), and a plain verdict.

    Examples:

        tunesmith compare runs/faq-1ep runs/faq-3ep

        tunesmith compare runs/current runs/candidate --data holdout.jsonl
    """
    from rich.table import Table

    from tunesmith.evaluate.compare import compare_runs, format_p

    records = None
    if data is not None:
        records = _read_inputs(data, ("text", "label"))
    result = compare_runs(run_a, run_b, records, backend)
    table = Table(title=f"B - A on {result.count} records")
    for column in ("metric", "A", "B", "B - A", "95% CI", "p"):
        table.add_column(column, justify="right")
    table.add_column("test")
    for d in result.differences:
        table.add_row(
            d.metric,
            f"{d.a:.4f}",
            f"{d.b:.4f}",
            f"{d.delta:+.4f}",
            f"[{d.low:+.4f}, {d.high:+.4f}]",
            format_p(d.p_value),
            result.tests.get(d.metric, "paired bootstrap"),
        )
    console.print(table)
    m = result.mcnemar
    if m is not None:
        console.print(
            f"McNemar: {m.only_a_right} records only A gets right, {m.only_b_right} only B; "
            f"exact p = {m.p_value:.3g}"
        )
    for d in result.differences:
        console.print(d.verdict())


@app.command()
def insights(
    run_dir: RunDir,
    source: Annotated[
        str,
        typer.Argument(help="Customer records: a data file, an SQLite file (.db), or a database URL."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the report, figures and scores.")],
    table: Annotated[str | None, typer.Option(help="The table to read, for a database source.")] = None,
    text_column: Annotated[
        str | None, typer.Option(help="Column with the text (default: the run's text field).")
    ] = None,
    id_column: Annotated[
        str | None, typer.Option(help="Column that identifies a record (default: 'id' if there).")
    ] = None,
    time_column: Annotated[
        str | None, typer.Option(help="Column with the record's date or time (default: date, time ...).")
    ] = None,
    segment: Annotated[
        list[str] | None,
        typer.Option(help="Column to compare label shares by (product, channel ...); default: found."),
    ] = None,
    by: Annotated[
        str, typer.Option(help="What a second run skips: id (records already scored) or time (older).")
    ] = "id",
    period: Annotated[str, typer.Option(help="auto, day, week or month.")] = "auto",
    scores_table: Annotated[
        str | None, typer.Option(help="Table the scores go to (default: <table>_insights).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Records per model call.")] = 64,
    backend: BackendOption = "auto",
) -> None:
    """Score customer records with a classifier run and write an insight report: label shares
    over time, segments, characteristic terms, spikes and examples (report.html, figures.csv).
    Scores go back to the records (OUT/scored.jsonl, or a table of the same database); a second
    run scores only the new records.

    Examples:

        tunesmith insights runs/sentiment reviews.csv -o insights/

        tunesmith insights runs/intent crm.db --table tickets --id-column ticket_id -o insights/

        tunesmith insights runs/intent postgresql://user@db/crm --table tickets --by time -o out/
    """
    from tunesmith.insights.stage import Options, say
    from tunesmith.insights.stage import insights as run_insights

    if by not in ("id", "time"):
        raise TunesmithError(f"--by {by}: use id or time")
    if period not in ("auto", "day", "week", "month"):
        raise TunesmithError(f"--period {period}: use auto, day, week or month")
    options = Options(
        text_column, id_column, time_column, segment, by, period, batch_size, backend, scores_table
    )
    say(run_insights(run_dir, source, table, out, options))


@app.command("ab-test")
def ab_test(
    log: Annotated[Path, typer.Argument(help="JSONL outcome log: version, request_id, outcome (1/0).")],
    a: Annotated[str | None, typer.Option("--a", help="The control version (default: the first).")] = None,
    b: Annotated[str | None, typer.Option("--b", help="The candidate version (default: the second).")] = None,
    mde: Annotated[
        float, typer.Option(help="Smallest absolute change in success rate worth detecting.")
    ] = 0.02,
    alpha: Annotated[float, typer.Option(help="False-positive rate of the test.")] = 0.05,
    power: Annotated[float, typer.Option(help="Chance to detect a change of --mde.")] = 0.8,
) -> None:
    """Online A/B: the success rates of two served versions, a two-proportion test with a 95%
    interval, and the sample size the test needs; warns when it is read before that size.

    Example:

        tunesmith ab-test outcomes.jsonl --mde 0.02
    """
    from tunesmith.evaluate.online_ab import read_outcomes, sample_size_per_arm, two_proportion_test

    if not log.is_file():
        raise TunesmithError(f"{log}: no such file")
    arms = read_outcomes(log)
    names = list(arms)
    a, b = a or (names[0] if names else None), b or (names[1] if len(names) > 1 else None)
    if a not in arms or b not in arms or a == b:
        raise TunesmithError(f"{log}: needs outcomes of two versions (found: {', '.join(names) or 'none'})")
    result = two_proportion_test(arms[a], arms[b])
    for arm in (result.a, result.b):
        console.print(f"{arm.version}: {arm.successes:,} of {arm.requests:,} ({arm.rate:.2%})")
    console.print(
        f"B - A = {100 * result.delta:+.2f} points "
        f"(95% CI {100 * result.low:+.2f} to {100 * result.high:+.2f}), "
        f"z = {result.z:.2f}, p = {result.p_value:.3g}"
    )
    try:
        needed = sample_size_per_arm(arms[a].rate, mde, alpha, power)
    except ValueError as error:
        raise TunesmithError(f"--mde {mde}: {error}") from None
    console.print(
        f"planned size: {needed:,} requests per arm to detect {mde:+.2%} (alpha {alpha}, power {power})"
    )
    smallest = min(arms[a].requests, arms[b].requests)
    if smallest < needed:
        console.print(
            f"[yellow]warning: only {smallest:,} requests in the smaller arm, "
            f"{needed - smallest:,} short of the plan.[/] Reading the test before then and stopping "
            "on a low p inflates false positives (peeking): keep it running."
        )
    elif result.p_value < alpha:
        console.print(f"[bold]{b if result.delta > 0 else a} is better[/] at the planned size")
    else:
        console.print("no significant difference at the planned size")


@app.command()
def reproduce(
    run_dir: RunDir,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to re-run (default RUN_DIR-reproduced).")
    ] = None,
    tolerance: Annotated[float, typer.Option(help="Largest metric difference that still matches.")] = 1e-6,
) -> None:
    """Re-run RUN_DIR from its own recipe and report whether data, recipe and metrics match;
    exit 1 when they do not.

    Example:

        tunesmith reproduce runs/faq
    """
    from rich.table import Table

    from tunesmith.runs.reproduce import as_json
    from tunesmith.runs.reproduce import reproduce as reproduce_run

    target = output or run_dir.with_name(f"{run_dir.name}-reproduced")
    result = reproduce_run(run_dir, target, tolerance)
    atomic.write_json(target / "reproduction.json", as_json(result))
    console.print(f"data fingerprint: {'same' if result.same_data else '[red]different[/]'}")
    console.print(f"recipe hash: {'same' if result.same_recipe else '[red]different[/]'}")
    for name, (before, now) in result.changed_libraries.items():
        console.print(f"[yellow]library changed:[/] {name} {before} -> {now}")
    if result.differing:
        table = Table(title=f"metrics that differ by more than {tolerance:g}")
        for column in ("split", "metric", "original", "rerun"):
            table.add_column(column)
        for d in result.differing:
            table.add_row(d.split, d.metric, f"{d.a:.6f}", f"{d.b:.6f}")
        console.print(table)
    if result.matches:
        console.print(
            f"[bold green]reproduced:[/] {len(result.deltas)} metrics match within {tolerance:g} ({target})"
        )
        return
    console.print(f"[bold red]not reproduced[/] ({target}/reproduction.json)")
    raise typer.Exit(1)


# what the `train` extra installs (pyproject.toml): a slim install lacks them
TRAIN_MODULES = frozenset(
    {
        *("torch", "transformers", "datasets", "accelerate", "peft", "pyarrow", "charset_normalizer"),
        *("sklearn", "scipy", "lightgbm", "onnx", "onnxmltools", "psutil", "matplotlib", "tensorboard"),
        *("jieba", "faker", "rank_bm25", "seqeval", "sacrebleu", "rouge_score", "fairlearn"),
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

"""Serving under load, one run on this machine: a naive FastAPI server (eager PyTorch, one request
per model call - what a team writes first) against `tunesmith serve` with its defaults, on the same
trained run. A closed-loop load generator (asyncio + aiohttp: each client sends its next request when
the last one is answered) holds 1, 16 and 64 clients for `--seconds` each and reports requests/s,
p50/p99 latency, errors and the server's peak memory (all its processes); then a soak at 16
clients for `--soak-minutes` samples the server's memory to show it stays flat. Ratios are against
the naive server in the same run. One text per request: a user's message.

    python benchmarks/serve_load.py --run /tmp/bench/b77/runs/bench --seconds 20 --soak-minutes 10

The client is aiohttp, not httpx: on this machine an httpx AsyncClient could not make the load it
was meant to measure (a trivial route: 616 requests/s at 16 clients, 174 at 64, against aiohttp's
3,590 and 2,282 on the same server), so every server looked alike. `--client httpx` shows it.

The run is any finished classification run. The default path is `tunesmith init train.csv` and
`tunesmith run recipe.yaml` (the English default exports ONNX and int8; `serve` picks the faster
proven one); `--also student=RUN` adds `tunesmith distill`'s student of it, against the same naive
server on the teacher:

    python benchmarks/serve_load.py --run /tmp/b77/runs/train --also student=/tmp/b77/runs/small \
        --seconds 20 --soak-minutes 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

NAIVE_APP = """
import sys, torch
from fastapi import FastAPI
from pydantic import BaseModel
from transformers import AutoModelForSequenceClassification, AutoTokenizer

model_dir = sys.argv[1]
tokenizer = AutoTokenizer.from_pretrained(model_dir)
model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
app = FastAPI()

class Body(BaseModel):
    text: str

@app.get("/v2/health/ready")
def ready():
    return {"ready": True}

@app.post("/v1/predict")
def predict(body: Body):
    batch = tokenizer([body.text], truncation=True, max_length=128, return_tensors="pt")
    with torch.inference_mode():
        probs = model(**batch).logits.softmax(-1)[0]
    best = int(probs.argmax())
    return {"label": model.config.id2label[best], "score": float(probs[best])}

import uvicorn
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            with open(f"/proc/{current}/task/{current}/children") as handle:
                todo.extend(int(c) for c in handle.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / 2**20


class Arm:
    def __init__(self, name: str, command: list[str], cwd: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        cmd = [c.replace("{port}", str(self.port)) for c in command]
        self.log = (cwd / f"{name}.log").open("w")
        self.process = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.peak = 0.0
        self._sampling = False

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"{self.name} exited; see its log")
            try:
                if httpx.get(f"{self.url}/v2/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        sys.exit(f"{self.name} did not get ready")

    def sample_memory(self) -> None:
        self._sampling = True

        def loop() -> None:
            while self._sampling:
                self.peak = max(self.peak, tree_rss_mb(self.process.pid))
                time.sleep(0.2)

        threading.Thread(target=loop, daemon=True).start()

    def stop(self) -> None:
        self._sampling = False
        self.process.terminate()
        self.process.wait(timeout=60)
        self.log.close()


class HttpxPoster:
    def __init__(self, clients: int) -> None:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        self.http = httpx.AsyncClient(timeout=30, limits=limits)

    async def post(self, url: str, body: dict[str, Any]) -> int:
        return (await self.http.post(url, json=body)).status_code

    async def close(self) -> None:
        await self.http.aclose()


class AiohttpPoster:
    def __init__(self, clients: int) -> None:
        import aiohttp

        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=clients), timeout=aiohttp.ClientTimeout(total=30)
        )

    async def post(self, url: str, body: dict[str, Any]) -> int:
        async with self.http.post(url, json=body) as response:
            await response.read()
            return response.status

    async def close(self) -> None:
        await self.http.close()


CLIENTS = {"aiohttp": AiohttpPoster, "httpx": HttpxPoster}


async def closed_loop(
    url: str, texts: list[str], clients: int, seconds: float, library: str = "aiohttp"
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    stop_at = time.perf_counter() + seconds
    poster = CLIENTS[library](clients)

    async def client(seed: int) -> None:
        rng = random.Random(seed)
        while time.perf_counter() < stop_at:
            text = texts[rng.randrange(len(texts))]
            started = time.perf_counter()
            try:
                status = await poster.post(f"{url}/v1/predict", {"text": text})
                if status == 200:
                    latencies.append(time.perf_counter() - started)
                    continue
                key = str(status)
            except Exception as error:  # a refused or dropped connection is an error of the server
                key = type(error).__name__
            errors[key] = errors.get(key, 0) + 1

    began = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    took = time.perf_counter() - began
    await poster.close()
    ms = np.array(latencies) * 1000
    return {
        "clients": clients,
        "requests_per_s": len(latencies) / took,
        "p50_ms": float(np.percentile(ms, 50)) if len(ms) else float("nan"),
        "p99_ms": float(np.percentile(ms, 99)) if len(ms) else float("nan"),
        "answered": len(latencies),
        "errors": errors,
    }


def soak(arm: Arm, texts: list[str], minutes: float, library: str, clients: int = 16) -> dict[str, Any]:
    """Memory every 10 s under steady load; growth is the last minute's mean against the mean of
    the minute after a one-minute warm-up."""
    samples: list[tuple[float, float]] = []
    began = time.perf_counter()
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.perf_counter() - began, tree_rss_mb(arm.process.pid)))
            done.wait(10)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    result = asyncio.run(closed_loop(arm.url, texts, clients, minutes * 60, library))
    done.set()
    watcher.join()
    warm = [m for t, m in samples if 60 <= t < 120] or [samples[0][1]]
    last = [m for t, m in samples if t >= minutes * 60 - 60] or [samples[-1][1]]
    growth = (np.mean(last) - np.mean(warm)) / np.mean(warm)
    return {"minutes": minutes, "load": result, "rss_mb": samples, "growth": float(growth)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--levels", default="1,16,64")
    parser.add_argument("--soak-minutes", type=float, default=10)
    parser.add_argument("--out", type=Path, default=None, help="Write the figures as JSON here.")
    parser.add_argument("--client", choices=sorted(CLIENTS), default="aiohttp")
    parser.add_argument(
        "--naive-model",
        type=Path,
        help="The transformer folder the naive server loads (default: --run's model/; give a "
        "transformer run's model/ when --run serves another learner, e.g. the n-gram model)",
    )
    parser.add_argument(
        "--serve-args",
        default="",
        help="Extra flags of `tunesmith serve` for every tunesmith arm, e.g. '--no-buckets'",
    )
    parser.add_argument(
        "--texts",
        type=Path,
        help="A JSONL file whose `text` fields the clients send (default: --run's test split)",
    )
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        help="NAME=RUN: serve this run too with tunesmith's defaults (a distilled student of --run), "
        "against the same naive server on --run's model",
    )
    args = parser.parse_args()
    run = args.run.resolve()
    source = args.texts or run / "data" / "test.jsonl"
    texts = [json.loads(line)["text"] for line in source.read_text(encoding="utf-8").splitlines()]
    extra_flags = args.serve_args.split()
    levels = [int(x) for x in args.levels.split(",")]
    work = Path(tempfile.mkdtemp(prefix="serve-load-"))
    arms = {
        "naive": [
            sys.executable,
            "-c",
            NAIVE_APP,
            str((args.naive_model or run / "model").resolve()),
            "{port}",
        ],
        "tunesmith": [
            *[sys.executable, "-m", "tunesmith.cli", "serve", str(run), "--port", "{port}"],
            *extra_flags,
        ],
    }
    for extra in args.also:
        label, _, path = extra.partition("=")
        arms[label] = [
            sys.executable,
            "-m",
            "tunesmith.cli",
            "serve",
            str(Path(path).resolve()),
            "--port",
            "{port}",
            *extra_flags,
        ]
    results: dict[str, Any] = {}
    for name, command in arms.items():
        arm = Arm(name, command, work)
        arm.wait_ready()
        asyncio.run(closed_loop(arm.url, texts, 4, 3, args.client))  # warm-up
        arm.sample_memory()
        results[name] = {"levels": []}
        for clients in levels:
            figures = asyncio.run(closed_loop(arm.url, texts, clients, args.seconds, args.client))
            results[name]["levels"].append(figures)
            print(
                f"{name:9s} {clients:3d} clients: {figures['requests_per_s']:7.1f} req/s  "
                f"p50 {figures['p50_ms']:7.1f} ms  p99 {figures['p99_ms']:7.1f} ms  "
                f"errors {figures['errors']}",
                flush=True,
            )
        results[name]["peak_rss_mb"] = arm.peak
        print(f"{name:9s} peak memory {arm.peak:.0f} MB", flush=True)
        if name == "tunesmith" and args.soak_minutes > 0:  # the soak: the default server only
            results[name]["soak"] = soak(arm, texts, args.soak_minutes, args.client)
            s = results[name]["soak"]
            print(
                f"soak {args.soak_minutes:g} min at 16 clients: {s['load']['requests_per_s']:.1f} req/s, "
                f"errors {s['load']['errors']}, "
                f"memory {s['rss_mb'][0][1]:.0f} -> {s['rss_mb'][-1][1]:.0f} MB, "
                f"growth after warm-up {100 * s['growth']:+.2f}%",
                flush=True,
            )
        arm.stop()
    for label in [name for name in arms if name != "naive"]:
        print(f"\nclients  naive req/s  {label} req/s  ratio  naive p99  {label} p99")
        for naive, ours in zip(results["naive"]["levels"], results[label]["levels"], strict=True):
            ratio = ours["requests_per_s"] / naive["requests_per_s"]
            print(
                f"{naive['clients']:7d}  {naive['requests_per_s']:11.1f}  {ours['requests_per_s']:15.1f}  "
                f"{ratio:5.2f}x  {naive['p99_ms']:7.1f} ms  {ours['p99_ms']:10.1f} ms"
            )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

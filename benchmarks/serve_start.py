"""Start-up and memory of the serving path, and the CLI's start: `tunesmith serve RUN` with its
defaults (a proven ONNX export, answered with onnxruntime and the tokenizers library) against the
same server on `--backend torch`; time from launch to the first answer, resident memory of the
server's process tree after 200 answers, and whether PyTorch was loaded; then `tunesmith --help`
and `tunesmith init DATA --explain` wall time. Each is the median of `--repeats` fresh processes.

`--baseline-src DIR` runs every measurement a second time with another checkout's `src` first on
PYTHONPATH (the code before a change), and prints the ratios against it, in the same process.

    python benchmarks/serve_start.py --run /tmp/b77/runs/train --data /tmp/b77/train.csv \
        [--baseline-src /tmp/before/src]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

TEXT = "I still have not received my new card, what should I do?"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tree(pid: int) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [pid] + [p for child in children for p in _tree(int(child))]


def _resident_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
            total += next(int(line.split()[1]) for line in handle if line.startswith("VmRSS"))
    return total / 1024


def _ask(port: int) -> dict[str, Any]:
    body = json.dumps({"text": TEXT}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/predict", body, {"content-type": "application/json"}
    )
    return json.loads(urllib.request.urlopen(request, timeout=30).read())  # type: ignore[no-any-return]


def serve_once(run: Path, flags: list[str], env: dict[str, str]) -> dict[str, Any]:
    port = _free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "tunesmith.cli", "serve", str(run), "--port", str(port), *flags],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                answer = _ask(port)
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"the server exited with {process.returncode}") from None
                time.sleep(0.02)
        first = time.perf_counter() - started
        for _ in range(200):
            _ask(port)
        pids = _tree(process.pid)
        maps = "".join(Path(f"/proc/{pid}/maps").read_text() for pid in pids)
        return {
            "first_answer_s": first,
            "resident_mb": _resident_mb(pids),
            "torch_loaded": "libtorch" in maps,
            "version": answer.get("version"),
        }
    finally:
        process.terminate()
        process.wait(timeout=30)


def wall(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, capture_output=True, check=True)
    return time.perf_counter() - started


def measure(run: Path, data: Path, src: Path | None, repeats: int) -> dict[str, Any]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")])
    cli = [sys.executable, "-m", "tunesmith.cli"]
    out: dict[str, Any] = {}
    for name, flags in (("default", []), ("torch", ["--backend", "torch"])):
        runs = [serve_once(run, flags, env) for _ in range(repeats)]
        out[name] = {
            "first_answer_s": statistics.median(r["first_answer_s"] for r in runs),
            "resident_mb": statistics.median(r["resident_mb"] for r in runs),
            "torch_loaded": runs[0]["torch_loaded"],
        }
    out["help_s"] = statistics.median(wall([*cli, "--help"], env) for _ in range(repeats))
    explain = [*cli, "init", str(data), "--explain"]
    out["init_explain_s"] = statistics.median(wall(explain, env) for _ in range(repeats))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", type=Path, required=True, help="A finished run with a proven ONNX export.")
    parser.add_argument("--data", type=Path, required=True, help="A data file for `init --explain`.")
    parser.add_argument("--baseline-src", type=Path, default=None, help="Another checkout's src folder.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    results = {"this": measure(args.run, args.data, None, args.repeats)}
    if args.baseline_src:
        results["baseline"] = measure(args.run, args.data, args.baseline_src, args.repeats)
    print("| code | server | first answer | resident memory | PyTorch loaded | `--help` | `init --explain` |")
    print("|---|---|--:|--:|---|--:|--:|")
    for code, found in results.items():
        for server in ("default", "torch"):
            row = found[server]
            print(
                f"| {code} | {server} | {row['first_answer_s']:.2f} s | {row['resident_mb']:.0f} MB | "
                f"{'yes' if row['torch_loaded'] else 'no'} | {found['help_s']:.2f} s | "
                f"{found['init_explain_s']:.2f} s |"
            )
    if "baseline" in results:
        this, base = results["this"]["default"], results["baseline"]["default"]
        sooner = base["first_answer_s"] / this["first_answer_s"]
        print(
            f"default server vs baseline: first answer {sooner:.1f}x sooner, "
            f"{base['resident_mb'] / this['resident_mb']:.1f}x less memory"
        )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

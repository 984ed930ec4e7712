"""The real CLI in a fresh process, offline, as a user runs it: one helper for every benchmark
that drives `tunesmith` (default_vs_tuned.py, real_data_tasks.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def tunesmith(*args: str, cwd: Path) -> tuple[int, str, float]:
    """(exit code, stdout + stderr, seconds) of `tunesmith ARGS` run in `cwd`."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "COLUMNS": "160"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tunesmith.cli", *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - started

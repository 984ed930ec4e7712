"""The run queue: each job is a folder under ROOT/.console/jobs holding its recipe (written by
init), job.json (state, the --set overrides, the output) and console.log. Queued jobs run one at
a time (or `parallel`) as separate `tunesmith run` processes - the CLI's own line, so a stop is
the CLI's Ctrl-C (a checkpoint is saved) and a resume is its `--resume`. A job outlives the
console: started again, the console finds its running processes and the queue where it was."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tunesmith import atomic
from tunesmith.bundle import MANIFEST
from tunesmith.console import console
from tunesmith.train.progress import PROGRESS_FILE

JOB_FILE = "job.json"
LOG_FILE = "console.log"
RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,60}$")
ACTIVE = ("queued", "running")
RESUMABLE = ("stopped", "interrupted", "failed")
# The exit codes of `tunesmith run` (cli.main): 3 gates failed, 130 stopped by Ctrl-C/SIGINT.
_ENDED = {0: "finished", 3: "not releasable", 130: "stopped", -signal.SIGINT: "stopped"}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# stage -> (share of the whole run when it starts, when it ends)
_STAGES = {"prepare": (0.0, 0.1), "train": (0.1, 0.85), "evaluate": (0.85, 0.95), "bundle": (0.95, 1.0)}


@dataclass
class Job:
    id: str
    source: str  # the data file the recipe reads
    source_name: str  # as the user knows it (the upload's name)
    state: str = (
        "draft"  # draft | queued | running | finished | not releasable | stopped | failed | interrupted
    )
    name: str = ""
    overrides: list[str] = field(default_factory=list)
    output: str = ""
    by: str = ""
    created: float = field(default_factory=time.time)
    started: float | None = None
    ended: float | None = None
    returncode: int | None = None
    pid: int | None = None
    resume: bool = False


def clean_log(raw: str) -> str:
    """A log as a person reads it: colours dropped, a progress bar's redrawn line (\\r) shown once."""
    return "\n".join(_ANSI.sub("", line.rsplit("\r", 1)[-1]) for line in raw.split("\n"))


class JobQueue:
    def __init__(self, jobs_dir: Path, root: Path, parallel: int = 1) -> None:
        self.dir = jobs_dir
        self.root = root
        self.parallel = parallel
        self._lock = threading.RLock()
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.dir.mkdir(parents=True, exist_ok=True)

    # -- jobs on disk ---------------------------------------------------------------------------
    def folder(self, job_id: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{12}", job_id):
            raise KeyError(job_id)
        return self.dir / job_id

    def get(self, job_id: str) -> Job:
        path = self.folder(job_id) / JOB_FILE
        if not path.is_file():
            raise KeyError(job_id)
        return Job(**json.loads(path.read_text(encoding="utf-8")))

    def save(self, job: Job) -> None:
        atomic.write_json(self.folder(job.id) / JOB_FILE, asdict(job))

    def all(self) -> list[Job]:
        jobs = []
        for path in self.dir.glob(f"*/{JOB_FILE}"):
            try:
                jobs.append(Job(**json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, TypeError):
                continue  # a half-written or foreign file: not a job
        return sorted(jobs, key=lambda j: j.created, reverse=True)

    def new_draft(self, source: Path, source_name: str) -> Job:
        job = Job(id=secrets.token_hex(6), source=str(source), source_name=source_name)
        self.folder(job.id).mkdir(parents=True)
        self.save(job)
        return job

    def recipe(self, job: Job) -> Path:
        return self.folder(job.id) / "recipe.yaml"

    def name_taken(self, name: str, job_id: str) -> str | None:
        """Why `name` cannot be the run's folder, or None."""
        if not RUN_NAME.match(name):
            return f"run name {name!r}: letters, digits, '-' and '_' (at most 61), first a letter or digit"
        if (self.root / name).exists():
            return f"a run named {name!r} exists under {self.root}; choose another name"
        if any(j.name == name and j.state in ACTIVE and j.id != job_id for j in self.all()):
            return f"a queued or running job already writes {name!r}"
        return None

    def free_name(self, wanted: str, job_id: str) -> str:
        """`wanted` made a valid run name no run or job has taken: faq, faq-2, faq-3 ..."""
        base = re.sub(r"[^A-Za-z0-9_-]+", "-", wanted).strip("-_")[:50] or "run"
        name, n = base, 1
        while self.name_taken(name, job_id):
            n += 1
            name = f"{base}-{n}"
        return name

    def submit(self, job: Job, name: str, overrides: list[str], by: str) -> Job:
        with self._lock:
            job.name, job.overrides, job.by = name, overrides, by
            job.output = str(self.root / name)
            job.state, job.resume, job.returncode = "queued", False, None
            self.save(job)
        return job

    # -- stop and resume: the CLI's own paths --------------------------------------------------
    def stop(self, job_id: str) -> Job:
        with self._lock:
            job = self.get(job_id)
            if job.state == "queued":
                job.state, job.ended = "stopped", time.time()
                self.save(job)
            elif job.state == "running" and job.pid:
                # Ctrl-C: the line finishes its step, saves a checkpoint and exits 130
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(job.pid, signal.SIGINT)
            return job

    def resume(self, job_id: str) -> Job:
        with self._lock:
            job = self.get(job_id)
            if job.state in RESUMABLE:
                job.state, job.resume, job.returncode, job.ended = "queued", True, None, None
                self.save(job)
            return job

    # -- the worker -----------------------------------------------------------------------------
    def start(self) -> None:
        for job in self.all():  # a console that stopped: its running jobs may still run
            if job.state == "running" and not _alive(job.pid):
                self._settle(job, None)
        self._thread = threading.Thread(target=self._loop, name="tunesmith-queue", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop watching; running processes go on (a new console finds them)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(0.3):
            try:
                self.tick()
            except Exception as error:  # the queue must outlive one bad job file
                console.print(f"[red]queue:[/] {error}")

    def tick(self) -> None:
        with self._lock:
            jobs = self.all()
            for job in jobs:
                if job.state != "running":
                    continue
                process = self._processes.get(job.id)
                if process is not None and process.poll() is not None:
                    self._processes.pop(job.id)
                    self._settle(job, process.returncode)
                elif process is None and not _alive(job.pid):  # started by an earlier console
                    self._settle(job, None)
            running = sum(j.state == "running" for j in jobs)
            for job in sorted((j for j in jobs if j.state == "queued"), key=lambda j: j.created):
                if running >= self.parallel:
                    break
                self._launch(job)
                running += 1

    def _launch(self, job: Job) -> None:
        folder = self.folder(job.id)
        argv = [sys.executable, "-m", "tunesmith.cli", "run", str(self.recipe(job)), "--output", job.output]
        for item in job.overrides:
            argv += ["--set", item]
        if job.resume:
            argv.append("--resume")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "120", "HF_HUB_OFFLINE": "1"}
        with (folder / LOG_FILE).open("ab") as log:
            log.write(f"$ tunesmith run {' '.join(argv[4:])}\n".encode())
            log.flush()
            process = subprocess.Popen(
                argv,
                cwd=folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # its own process group: a stop reaches the workers too
            )
        self._processes[job.id] = process
        job.state, job.pid, job.started, job.ended = "running", process.pid, time.time(), None
        self.save(job)

    def _settle(self, job: Job, returncode: int | None) -> None:
        if returncode is None:  # not our child: judge by what it left
            finished = (Path(job.output) / MANIFEST).is_file()
            job.state = "finished" if finished else "interrupted"
        else:
            job.state = _ENDED.get(returncode, "failed")
        job.returncode, job.pid, job.ended = returncode, None, time.time()
        self.save(job)

    # -- what the pages show ----------------------------------------------------------------------
    def log(self, job: Job, offset: int = 0, most: int = 1 << 20) -> tuple[str, int]:
        """The log from byte `offset` (at most `most` bytes, cut at a line end), and the next offset."""
        path = self.folder(job.id) / LOG_FILE
        if not path.is_file():
            return "", offset
        with path.open("rb") as handle:
            handle.seek(offset)
            chunk = handle.read(most)
        if len(chunk) == most and b"\n" in chunk:
            chunk = chunk[: chunk.rindex(b"\n") + 1]
        elif chunk and not chunk.endswith(b"\n") and job.state == "running":
            chunk = chunk[: chunk.rindex(b"\n") + 1] if b"\n" in chunk else b""
        return clean_log(chunk.decode("utf-8", errors="replace")), offset + len(chunk)

    def progress(self, job: Job) -> dict[str, Any]:
        """The stage and how far the whole run has got (0-1), read from the run's staging folder."""
        if job.state in ("finished", "not releasable"):
            return {"state": job.state, "stage": "done", "fraction": 1.0, "detail": ""}
        output = Path(job.output) if job.output else None
        if output is not None and (output / MANIFEST).is_file() and job.state == "running":
            return {"state": job.state, "stage": "bundle", "fraction": 0.99, "detail": "written"}
        folder = output.with_name(f".{output.name}.partial") if output else None
        stage, detail, within = "prepare", "", 0.0
        if folder is not None and folder.is_dir():
            if (folder / "metrics.json").is_file():
                stage = "bundle"
            elif (folder / "train_summary.json").is_file():
                stage = "evaluate"
            elif (folder / "data" / "report.json").is_file():
                stage = "train"
                try:
                    seen = json.loads((folder / PROGRESS_FILE).read_text(encoding="utf-8"))
                    within = seen["step"] / max(1, seen["max_steps"])
                    loss = f", loss {seen['loss']:.4f}" if seen.get("loss") is not None else ""
                    detail = f"step {seen['step']} of {seen['max_steps']}{loss}"
                except (OSError, ValueError, KeyError, TypeError):
                    pass
        start, end = _STAGES[stage]
        fraction = start + (end - start) * min(1.0, within)
        return {"state": job.state, "stage": stage, "fraction": round(fraction, 3), "detail": detail}


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    return not cmdline.exists() or b"tunesmith" in cmdline.read_bytes()  # not a reused pid

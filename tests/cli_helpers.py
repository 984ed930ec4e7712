"""Drive the real `tunesmith` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TUNESMITH = [sys.executable, "-m", "tunesmith.cli"]


def environment() -> dict[str, str]:
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "200",  # rich tables as wide as a terminal, not folded to 80 columns
    }


# A slim install (`pip install tunesmith[serve]`) as a process sees it: importing any module of the
# `train` extra fails as if it were not installed (a sitecustomize on PYTHONPATH; this environment
# has them all installed, so the test would otherwise not notice an import).
SLIM_INSTALL = """
import sys
TRAIN = {TRAIN}
class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in TRAIN:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, NotInstalled())
"""


def slim_environment(folder: Path) -> dict[str, str]:
    """Environment variables that make a `tunesmith` process behave as a slim install."""
    from tunesmith.cli import TRAIN_MODULES

    folder.mkdir(parents=True, exist_ok=True)
    code = SLIM_INSTALL.format(TRAIN=repr(set(TRAIN_MODULES)))
    (folder / "sitecustomize.py").write_text(code, encoding="utf-8")
    return {"PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])}


def tunesmith(
    *args: str, cwd: Path, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*TUNESMITH, *args],
        cwd=cwd,
        env=environment() | (env or {}),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"tunesmith {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`tunesmith serve RUN... EXTRA...` on a free port in `cwd` (its state folder lands there; a
    new temporary folder by default), stopped on exit. `ready`: wait for /v2/health/ready, else
    only for the port to answer."""

    def __init__(
        self,
        run_dir: Path | str,
        *extra: str,
        cwd: Path | None = None,
        ready: bool = True,
        key: str | None = None,
        command: list[str] | None = None,
        env: dict[str, str] | None = None,
        probe: str = "/v2/health/ready",
    ) -> None:
        """`command`: a whole command line to run instead (PORT stands for the port); `probe`: the
        path that answers 200 once it is ready."""
        self.headers = {"authorization": f"Bearer {key}"} if key else {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cwd = cwd or Path(tempfile.mkdtemp(prefix="serve-"))
        self.ready = ready
        self.probe = probe
        self.log = self.cwd / f"server-{self.port}.log"
        self._log_handle = self.log.open("w", encoding="utf-8")
        argv = [*TUNESMITH, "serve", str(run_dir), "--port", str(self.port), *extra]
        if command is not None:
            argv = [str(self.port) if a == "PORT" else a for a in command]
        self.process = subprocess.Popen(
            argv,
            env=environment() | (env or {}),
            cwd=self.cwd,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._log_handle.close()
                raise AssertionError(f"server exited: {self.output()}")
            try:
                status = httpx.get(f"{self.url}{self.probe}", headers=self.headers, timeout=1).status_code
                if status == 200 or (not self.ready and status in (503,)):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.__exit__()  # a server that never got ready is not left running
        raise AssertionError(f"server did not become ready in 120 s: {self.output()}")

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log_handle.close()


JAVA_CLIENT = Path(__file__).resolve().parents[1] / "clients" / "java"
JAVA_MAIN = "io.tunesmith.client.Main"  # the client's command line


def build_java_client(out: Path) -> Path:
    """`clients/java` compiled with javac (warnings are errors) into `out`; its JSON checks run."""
    sources = sorted(str(p) for p in JAVA_CLIENT.rglob("*.java"))
    subprocess.run(["javac", "-Xlint:all", "-Werror", "-d", str(out), *sources], check=True)
    checked = java(out, "io.tunesmith.client.JsonTest")
    assert "all checks passed" in checked.stdout, checked.stdout + checked.stderr
    return out


def java(classes: Path, main: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["java", "-ea", "-cp", str(classes), main, *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )

"""What a `tunesmith console` process is pointed at and allowed to do, fixed at start."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tunesmith.errors import TunesmithError
from tunesmith.serve.auth import ApiKey, load_keys
from tunesmith.serve.settings import default_auth

SERVER_KEY_ENV = "TUNESMITH_SERVER_KEY"
WORK_DIR = ".console"  # under the root: uploads, drafts, the queue's jobs and their logs


@dataclass(frozen=True)
class ConsoleSettings:
    root: Path  # the folder holding the run folders
    data_dir: Path | None = None  # files a user may pick instead of uploading
    host: str = "127.0.0.1"
    auth: bool = False
    keys: tuple[ApiKey, ...] = ()
    max_upload_bytes: int = 100 << 20
    parallel: int = 1  # runs executing at once
    server_url: str | None = None  # a `tunesmith serve` to show on the served-models page
    server_key: str | None = None  # its key (admin scope shows versions and weights)

    @property
    def work(self) -> Path:
        return self.root / WORK_DIR

    @property
    def jobs_dir(self) -> Path:
        return self.work / "jobs"

    @property
    def uploads_dir(self) -> Path:
        return self.work / "uploads"


def settle(
    root: Path,
    data_dir: Path | None,
    host: str,
    auth: bool | None,
    keys_file: Path | None,
    max_upload_mb: float,
    parallel: int,
    server_url: str | None,
    server_key_file: Path | None,
) -> ConsoleSettings:
    """The settings, or a TunesmithError saying what to fix. As with `tunesmith serve`, keys are
    required beyond localhost."""
    root.mkdir(parents=True, exist_ok=True)
    if data_dir is not None and not data_dir.is_dir():
        raise TunesmithError(f"--data {data_dir}: no such folder")
    keys = load_keys(str(keys_file) if keys_file else None)
    auth = default_auth(auth, bool(keys), host)
    if auth and not keys:
        raise TunesmithError(
            f"the console on {host} needs API keys: make one with "
            "`tunesmith keys create NAME --file keys.json --scope run` (or --scope read) "
            "and pass --api-keys keys.json"
        )
    server_key = os.environ.get(SERVER_KEY_ENV) or None
    if server_key_file is not None:
        if not server_key_file.is_file():
            raise TunesmithError(f"--server-key-file {server_key_file}: no such file")
        server_key = server_key_file.read_text(encoding="utf-8").strip()
    return ConsoleSettings(
        root=root.resolve(),
        data_dir=data_dir.resolve() if data_dir else None,
        host=host,
        auth=auth,
        keys=tuple(keys),
        max_upload_bytes=int(max_upload_mb * (1 << 20)),
        parallel=parallel,
        server_url=server_url.rstrip("/") if server_url else None,
        server_key=server_key,
    )

"""Data files into the console: an upload stored under the root with a safe name, or a file
picked under the configured data folder. Both are refused with a reason a person can act on:
a name with a folder or '..' in it, a type prepare does not read, a file over the size limit."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

from starlette.datastructures import UploadFile

ACCEPTED = (".jsonl", ".json", ".csv", ".tsv", ".txt", ".parquet")
# letters of any script, digits, '.', '-', '_' and spaces; no separators, no leading dot
_PLAIN_NAME = re.compile(r"^\w[\w.\- ]{0,150}$")
_SNIFF = 64 << 10
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class UploadRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def accepted_types() -> str:
    return ", ".join(ACCEPTED)


def check_name(name: str | None) -> str:
    """The file name as given, when it is a plain name of an accepted type; else UploadRefused."""
    if not name:
        raise UploadRefused(400, "choose a file to upload")
    if "/" in name or "\\" in name or ".." in name or not _PLAIN_NAME.match(name):
        raise UploadRefused(
            400,
            f"file name {name!r} refused: use a plain name (letters, digits, '.', '-', '_'), "
            "with no folder and no '..'",
        )
    if not name.lower().endswith(ACCEPTED):
        raise UploadRefused(415, f"{name}: not a data file prepare reads ({accepted_types()})")
    return name


def _check_content(name: str, head: bytes) -> None:
    if name.lower().endswith(".parquet"):
        if not head.startswith(b"PAR1"):
            raise UploadRefused(415, f"{name}: not a Parquet file (it does not start with PAR1)")
    elif b"\x00" in head and not head.startswith(_UTF16_BOMS):
        raise UploadRefused(415, f"{name}: binary content, not text (JSON, CSV, TSV and text files are text)")


async def save_upload(upload: UploadFile, folder: Path, limit: int) -> Path:
    """Copy an upload to `folder`/<hash of its bytes>/<name>, at most `limit` bytes. The file
    appears whole or not at all, keeps the name it was given, and the same file uploaded again
    is the same path (so two runs of one upload have the same recipe)."""
    name = check_name(upload.filename)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{secrets.token_hex(6)}.partial"
    digest = hashlib.sha256()
    size = 0
    try:
        with partial.open("wb") as out:
            while chunk := await upload.read(1 << 20):
                if size == 0:
                    _check_content(name, chunk[:_SNIFF])
                size += len(chunk)
                if size > limit:
                    raise UploadRefused(
                        413, f"{name}: larger than the console's limit of {limit / (1 << 20):.3g} MB"
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadRefused(400, f"{name}: the file is empty")
        target = folder / digest.hexdigest()[:16] / name
        target.parent.mkdir(exist_ok=True)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def data_files(data_dir: Path | None, most: int = 500) -> list[str]:
    """Files under the data folder a run can read (relative paths, three levels deep at most)."""
    if data_dir is None:
        return []
    found = []
    for path in sorted(data_dir.rglob("*")):
        relative = path.relative_to(data_dir)
        if len(relative.parts) > 3 or any(p.startswith(".") for p in relative.parts):
            continue
        if path.is_file() and path.name.lower().endswith(ACCEPTED):
            found.append(relative.as_posix())
            if len(found) >= most:
                break
    return found


def pick(data_dir: Path | None, relative: str) -> Path:
    """A file of `data_files`; anything else (another folder, '..', a link out) is refused."""
    if data_dir is None:
        raise UploadRefused(400, "this console has no data folder (start it with --data DIR)")
    if relative not in data_files(data_dir):
        raise UploadRefused(400, f"{relative!r} is not a data file under the data folder")
    path = (data_dir / relative).resolve()
    if not path.is_relative_to(data_dir):
        raise UploadRefused(400, f"{relative!r} points outside the data folder")
    return path

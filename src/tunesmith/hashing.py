"""sha256 of files, streamed in 1 MiB blocks (data fingerprints and bundle checksums)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_of(*paths: Path) -> str:
    """One digest over the bytes of every file, in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def checksum_problems(folder: Path, expected: dict[str, str], against: str) -> list[str]:
    """'name: missing' or 'name: checksum differs from <against>' for each file of `expected`
    (relative path -> sha256) that is not as recorded."""
    problems = []
    for rel, digest in expected.items():
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
        elif sha256_of(path) != digest:
            problems.append(f"{rel}: checksum differs from {against}")
    return problems

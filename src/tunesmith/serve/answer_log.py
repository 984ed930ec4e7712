"""Request ids, the answer log and the feedback log of an online A/B test.

A request id names the version that answered and is signed with the server's secret
(`<version>.<random>.<tag>`), so any worker - or a restarted server - knows from the id alone which
version an outcome belongs to, and refuses ids it never gave out. Answers go to
`answers.jsonl` (id, version, time, route, the texts' hashes or de-identified texts) and outcomes
to `feedback.jsonl` as `tunesmith ab-test` reads them: {"version", "request_id", "outcome"}.
Each line is one `write` on a file opened for appending, so workers never interleave lines.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

SECRET_FILE = ".request-id-key"
ANSWERS_FILE = "answers.jsonl"
FEEDBACK_FILE = "feedback.jsonl"


def _secret(state_dir: Path) -> bytes:
    """The signing secret, made once per state folder (workers race to create it: first wins)."""
    path = state_dir / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            data = path.read_bytes()
            if data:
                return data
            time.sleep(0.01)
        raise
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_bytes(32))
    return path.read_bytes()


def append_line(path: Path, record: dict[str, Any]) -> None:
    """One JSON line appended with one `write` (lines of several workers never interleave)."""
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class AnswerLog:
    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.state_dir = state_dir
        self._key = _secret(state_dir)
        self.answers = state_dir / ANSWERS_FILE
        self.feedback_file = state_dir / FEEDBACK_FILE

    def _tag(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()[:16]

    def new_id(self, version: str) -> str:
        body = f"{version}.{secrets.token_hex(8)}"
        return f"{body}.{self._tag(body)}"

    def version_of(self, request_id: str) -> str | None:
        """The version that answered `request_id`; None for an id this server did not give out."""
        body, _, tag = request_id.rpartition(".")
        if not body or not hmac.compare_digest(self._tag(body), tag):
            return None
        return body.split(".", 1)[0]

    def answer(self, record: dict[str, Any]) -> None:
        append_line(self.answers, {"time": round(time.time(), 3), **record})

    def feedback(self, request_id: str, version: str, outcome: int) -> None:
        record = {
            "version": version,
            "request_id": request_id,
            "outcome": outcome,
            "time": round(time.time(), 3),
        }
        append_line(self.feedback_file, record)

"""Structured access logs: one JSON object per request on standard output, with its request id,
route, status, latency, version and key name. Never the raw text: its hash (default), the text
as the model saw it after de-identification (`--log-text deidentified`), or nothing."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from tunesmith.serve.answer_log import text_hash

LOGGER = "tunesmith.access"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry, ensure_ascii=False)


def access_logger() -> logging.Logger:
    logger = logging.getLogger(LOGGER)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def logged_texts(mode: str, raw: list[str], seen: list[str] | None) -> dict[str, Any]:
    """What the logs keep of a request's texts under `--log-text`."""
    if mode == "hash":
        return {"text_sha256": [text_hash(t) for t in raw]}
    if mode == "deidentified" and seen is not None:
        return {"text_deidentified": seen}
    return {}


def log(event: str, level: int = logging.INFO, **fields: Any) -> None:
    access_logger().log(level, event, extra={"fields": fields})

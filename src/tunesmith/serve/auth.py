"""API keys and per-key rate limits. A key file holds only SHA-256 hashes of the keys (a key is
32 random bytes, so a fast hash is as safe as a slow one); `tunesmith keys create` writes it and
prints the key once. Scopes: `predict` (answers, feedback) and `admin` (change versions and
weights; implies every other scope) for the server; `read` (see runs, reports, playground) and `run`
(upload data, start, stop and resume runs; implies read) for the web console."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunesmith import atomic
from tunesmith.errors import TunesmithError

KEYS_ENV = "TUNESMITH_API_KEYS"
SCOPES = ("predict", "admin", "read", "run")
PREFIX = "tsk_"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    name: str
    sha256: str
    scopes: tuple[str, ...]
    rate_limit: float | None = None  # requests per minute; None: the server's default

    def allows(self, scope: str) -> bool:
        implied = scope == "read" and "run" in self.scopes
        return scope in self.scopes or "admin" in self.scopes or implied


def _parse_keys(data: Any, where: str) -> list[ApiKey]:
    entries = data.get("keys") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise TunesmithError(f'{where}: expected {{"keys": [...]}}; write it with `tunesmith keys create`')
    keys = []
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            raise TunesmithError(f"{where}: key {n} has no 'sha256' (the hash of the key, never the key)")
        scopes = tuple(entry.get("scopes") or ("predict",))
        wrong = sorted(set(scopes) - set(SCOPES))
        if wrong:
            raise TunesmithError(
                f"{where}: key {n} has unknown scope {', '.join(wrong)} (use {', '.join(SCOPES)})"
            )
        limit = entry.get("rate_limit")
        keys.append(ApiKey(str(entry.get("name", f"key{n}")), entry["sha256"].lower(), scopes, limit))
    return keys


def load_keys(path: str | None) -> list[ApiKey]:
    """Keys from `path`, else from the environment variable TUNESMITH_API_KEYS (the same JSON, or
    `name:scope+scope:KEY` items separated by commas, hashed as they are read)."""
    if path:
        file = Path(path)
        if not file.is_file():
            raise TunesmithError(
                f"{file}: no such key file; make one with `tunesmith keys create NAME --file {file}`"
            )
        try:
            return _parse_keys(json.loads(file.read_text(encoding="utf-8")), str(file))
        except json.JSONDecodeError as error:
            raise TunesmithError(f"{file}: not JSON ({error})") from None
    raw = os.environ.get(KEYS_ENV, "").strip()
    if not raw:
        return []
    if raw.startswith(("{", "[")):
        return _parse_keys(json.loads(raw), KEYS_ENV)
    keys = []
    for n, item in enumerate(filter(None, (p.strip() for p in raw.split(","))), start=1):
        parts = item.split(":")
        if len(parts) != 3:
            raise TunesmithError(f"{KEYS_ENV}: item {n} must be name:scope+scope:KEY")
        name, scopes, key = parts
        keys.extend(
            _parse_keys([{"name": name, "scopes": scopes.split("+"), "sha256": key_hash(key)}], KEYS_ENV)
        )
    return keys


def create_key(file: Path, name: str, scopes: list[str], rate_limit: float | None) -> str:
    """Add a new random key to `file` (its hash only) and return the key itself."""
    existing: list[dict[str, Any]] = []
    if file.is_file():
        existing = json.loads(file.read_text(encoding="utf-8")).get("keys", [])
        _parse_keys(existing, str(file))
    if any(entry.get("name") == name for entry in existing):
        raise TunesmithError(f"{file}: a key named {name!r} exists; pick another name or revoke it")
    key = PREFIX + secrets.token_urlsafe(32)
    entry: dict[str, Any] = {"name": name, "sha256": key_hash(key), "scopes": scopes}
    if rate_limit is not None:
        entry["rate_limit"] = rate_limit
    _parse_keys([entry], str(file))
    atomic.write_text(file, json.dumps({"keys": [*existing, entry]}, indent=2) + "\n")
    os.chmod(file, 0o600)
    return key


class KeyRing:
    """Finds the key of an `Authorization: Bearer` header; constant-time comparison of hashes."""

    def __init__(self, keys: list[ApiKey]) -> None:
        self.keys = keys

    def find(self, header: str | None) -> ApiKey | bool | None:
        """The key; None when no bearer token was sent; False when it matches no key."""
        if not header or not header.lower().startswith("bearer "):
            return None
        digest = key_hash(header[7:].strip())
        found: ApiKey | bool = False
        for key in self.keys:
            if hmac.compare_digest(key.sha256, digest):
                found = key
        return found


class RateLimiter:
    """A token bucket per key: `per_minute` requests a minute, bursts up to a tenth of a minute's
    worth (at least 5). Each worker holds its share of the limit."""

    def __init__(self, per_minute: float, share: int = 1) -> None:
        self.per_minute = per_minute
        self.share = max(1, share)
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: ApiKey) -> float:
        """0 when the request may go; otherwise seconds until it may."""
        rate = (key.rate_limit or self.per_minute) / 60 / self.share
        burst = max(5.0, rate * 6)
        now = time.monotonic()
        tokens, last = self._buckets.get(key.name, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        if tokens >= 1:
            self._buckets[key.name] = (tokens - 1, now)
            return 0.0
        self._buckets[key.name] = (tokens, now)
        return math.ceil((1 - tokens) / rate * 10) / 10

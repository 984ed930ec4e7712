"""Everything a `tunesmith serve` process needs to know, in one object that travels to each
worker process as JSON in an environment variable (uvicorn starts workers by import string)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from tunesmith.errors import TunesmithError
from tunesmith.recipe import ServeSection

SETTINGS_ENV = "TUNESMITH_SERVE_SETTINGS"
VERSION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def default_auth(auth: bool | None, keys_given: bool, host: str) -> bool:
    """Keys are required when asked for, when keys are given, or beyond localhost (serve, console)."""
    return auth if auth is not None else keys_given or host not in LOCAL_HOSTS


class ServeSettings(ServeSection):
    """The recipe's `serve:` keys (batch size, wait, queue, deadline, texts per request) and the rest."""

    runs: dict[str, str] = Field(description="Version name -> run folder, the first is the default.")
    split: dict[str, float] = Field(default_factory=dict, description="Version -> traffic weight.")
    sticky_header: str | None = Field(None, description="Header whose value keeps a user on one version.")
    shadow: dict[str, str] = Field(default_factory=dict, description="Shadow version -> run folder.")
    model_name: str = Field("model", description="The model's name in the V2 protocol and OpenAI routes.")
    backend: str = "auto"
    max_body_bytes: int = Field(1 << 20, ge=1024)
    threads: int = Field(1, ge=1, description="Compute threads of each worker.")
    host: str = "127.0.0.1"
    auth: bool = Field(True, description="Require API keys (always, unless turned off).")
    keys_file: str | None = None
    rate_limit: float = Field(600.0, gt=0, description="Requests per minute per key, all workers together.")
    workers: int = Field(1, ge=1)
    open_health: bool = Field(False, description="/health, /ready, /v2/health/* and /metrics need no key.")
    cors_origins: list[str] = Field(default_factory=list)
    state_dir: str = "serve-state"
    log_text: Literal["hash", "deidentified", "none"] = "hash"

    @model_validator(mode="after")
    def _consistent(self) -> ServeSettings:
        names = [*self.runs, *self.shadow]
        for name in names:
            if not VERSION_NAME.match(name):
                raise ValueError(f"version name {name!r}: use letters, digits, '-' and '_' (at most 40)")
        if len(set(names)) != len(names):
            raise ValueError("every version (served or shadow) needs its own name")
        unknown = sorted(set(self.split) - set(self.runs))
        if unknown:
            raise ValueError(
                f"--split names {', '.join(unknown)}, not a served version ({', '.join(self.runs)})"
            )
        if self.split and sum(self.split.values()) <= 0:
            raise ValueError("--split: the weights must add up to more than 0")
        if any(w < 0 for w in self.split.values()):
            raise ValueError("--split: weights must not be negative")
        return self

    @property
    def weights(self) -> dict[str, float]:
        """Traffic weight of every served version: the split, or all on the first version."""
        if self.split:
            return {name: float(self.split.get(name, 0.0)) for name in self.runs}
        first = next(iter(self.runs))
        return {name: 100.0 if name == first else 0.0 for name in self.runs}

    def to_env(self) -> dict[str, str]:
        return {SETTINGS_ENV: self.model_dump_json()}

    @classmethod
    def from_env(cls) -> ServeSettings:
        raw = os.environ.get(SETTINGS_ENV)
        if not raw:
            raise TunesmithError(f"{SETTINGS_ENV} is not set: start the server with `tunesmith serve`")
        return cls.model_validate_json(raw)


def version_name(path: Path, taken: set[str]) -> str:
    """A run folder's version name: its folder name made safe, numbered if already taken."""
    base = re.sub(r"[^A-Za-z0-9_-]", "-", path.resolve().name)[:36] or "run"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def parse_runs(items: list[str], taken: set[str] | None = None) -> dict[str, str]:
    """`RUN` or `NAME=RUN` arguments -> version name -> run folder."""
    named: dict[str, str] = {}
    seen = set(taken or ())
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not VERSION_NAME.match(name):
            name, path = version_name(Path(item), seen), item
        if name in seen:
            raise TunesmithError(f"{item}: version name {name!r} is used twice; write NAME=RUN")
        seen.add(name)
        named[name] = str(Path(path).resolve())
    return named


def parse_split(text: str) -> dict[str, float]:
    """`v1=90,v2=10` -> {"v1": 90.0, "v2": 10.0}."""
    split: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, weight = part.partition("=")
        try:
            split[name.strip()] = float(weight)
        except ValueError:
            sep = ""
        if not sep:
            raise TunesmithError(f"--split {text!r}: write VERSION=WEIGHT pairs, e.g. v1=90,v2=10")
    return split

"""Read the deployment files the way Docker and Kubernetes do, for the tests."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).parents[1] / "deploy"


def dockerfile(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    steps: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        instruction, _, rest = pending.strip().partition(" ")
        steps.append((instruction.upper(), rest.strip()))
        pending = ""
    return steps


def exec_form(arguments: str) -> list[str]:
    """A JSON-array instruction (ENTRYPOINT, CMD), or a shell form split as the shell would."""
    text = arguments.strip()
    return list(json.loads(text)) if text.startswith("[") else shlex.split(text)


def stages(steps: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    for step in steps:
        if step[0] == "FROM":
            out.append([])
        out[-1].append(step)
    return out


def manifests(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc["spec"]
    if doc["kind"] == "InferenceService":
        return list(spec["predictor"]["containers"])
    return list(spec["template"]["spec"]["containers"])

"""The trained run that the end-to-end tests share (training once keeps the suite short)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import build_java_client, tunesmith
from conftest import fast_overrides
from helpers import faq_records, write_jsonl


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Path:
    work = tmp_path_factory.mktemp("line")
    records = faq_records(240)
    records.append({"id": "long", "question": "我的密码为什么总是错误," * 300, "intent": "password"})
    write_jsonl(work / "faq.jsonl", records)  # one text far longer than max_length: truncated, kept
    tunesmith("init", "faq.jsonl", cwd=work)
    sets = [arg for item in fast_overrides(tiny_model) for arg in ("--set", item)]
    tunesmith("run", "recipe.yaml", *sets, "--output", "runs/faq", cwd=work)
    return work / "runs" / "faq"


@pytest.fixture(scope="session")
def java_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Java client's classes, built once (javac: the JDK 17 the project needs)."""
    return build_java_client(tmp_path_factory.mktemp("java"))

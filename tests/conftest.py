from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _pin_xdist_worker() -> None:
    """Under pytest-xdist, each worker (and every process it starts) gets its own share of the
    cores, so two workers do not fight over the same two cores with two threads each."""
    worker, count = os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if not worker or not count or not hasattr(os, "sched_setaffinity"):
        return
    cores = sorted(os.sched_getaffinity(0))
    share = max(1, len(cores) // int(count))
    index = int(worker.removeprefix("gw")) % max(1, len(cores) // share)
    os.sched_setaffinity(0, set(cores[index * share : (index + 1) * share]))


_pin_xdist_worker()

from helpers import INTENTS, build_tiny_model, faq_records, write_jsonl  # noqa: E402 (after the pinning)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    texts = [r["question"] for r in faq_records(400)] + [p for v in INTENTS.values() for p in v]
    return build_tiny_model(tmp_path_factory.mktemp("tiny-bert"), texts)


@pytest.fixture
def faq_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "faq.jsonl", faq_records(240))


def fast_overrides(model: Path) -> list[str]:
    """Recipe overrides that make a run take seconds with the tiny model."""
    return [
        f"model.name={model}",
        "training.epochs=4",
        "training.batch_size=16",
        "training.learning_rate=0.01",
        "training.logging_steps=5",
        "model.freeze_word_embeddings=false",
        # faq_records repeats a few phrases: with dedup on most test records would be removed as
        # leakage; dedup has its own tests (test_dedup.py).
        "prepare.dedup.enabled=false",
        # the fine-tuned transformer alone: these runs test fine-tuning, export and serving of it;
        # the learners beside it have their own end-to-end tests (tests/e2e/test_learners.py)
        "training.learners=[transformer]",
        # init asks for a distilled student where the budget allows; it has its own tests
        # (tests/e2e/test_export.py), and these runs answer with the model as trained
        "export.student=off",
    ]

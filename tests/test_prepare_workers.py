"""prepare on every core, and on Ray: the same bytes as one process.

The input spans several batches of the record path (BATCH records each), and holds what must
come out the same whichever worker saw it: exact and near duplicates whose first copy sits in
another batch, broken and incomplete rows, and personal data replaced by keyed pseudonyms.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml
from cli_helpers import tunesmith
from helpers import faq_records

from tunesmith.parallel import IN_FLIGHT
from tunesmith.prepare.stage import BATCH

OUTPUTS = ("train.jsonl", "validation.jsonl", "test.jsonl", "rejected.jsonl", "labels.json", "report.json")


def _messy_file(path: Path) -> int:
    """More batches than two workers hold in flight, with duplicates across batches, bad rows and
    personal data."""
    rng = random.Random(7)
    records = faq_records(BATCH * 2 * IN_FLIGHT + BATCH // 3, seed=3)
    lines = []
    for i, record in enumerate(records):
        record = {**record, "id": f"q{i}", "question": f"{record['question']} #{i}"}
        if i % 97 == 0:
            record["question"] += f" 我的手机是138{rng.randrange(10**7, 10**8)}"
        if i % 89 == 0:
            record["question"] += f" mail me at user{i}@example.com, I am Alice Walker"
        if i > BATCH and i % 50 == 0:  # an exact repeat of a record from the first batch
            record = {**records[i - BATCH], "id": f"q{i}", "question": lines_text(lines, i - BATCH)}
        if i > BATCH and i % 53 == 0:  # a near repeat: one more word
            record = {**record, "question": lines_text(lines, i - BATCH - 1) + " 谢谢"}
        line = json.dumps(record, ensure_ascii=False)
        if i % 211 == 0:
            line = line[:-5]  # broken JSON
        elif i % 199 == 0:
            line = json.dumps({"id": f"q{i}", "question": record["question"]}, ensure_ascii=False)
        lines.append(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def lines_text(lines: list[str], index: int) -> str:
    try:
        return str(json.loads(lines[index])["question"])
    except (json.JSONDecodeError, KeyError):
        return "一条坏记录"


def _prepare(tmp_path: Path, name: str, *overrides: str) -> Path:
    result = tunesmith(
        "prepare",
        "recipe.yaml",
        "--output",
        f"runs/{name}",
        *(arg for o in overrides for arg in ("--set", o)),
        cwd=tmp_path,
        env={"TUNESMITH_PII_KEY": "a test key, the same for every run"},
    )
    assert "rejected" in result.stderr, result.stderr
    return tmp_path / "runs" / name / "data"


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("workers")
    assert _messy_file(folder / "faq.jsonl") > 2 * BATCH
    recipe = {
        "data": {"train": "faq.jsonl", "text_field": "question", "label_field": "intent", "id_field": "id"},
        "prepare": {"pii": {"action": "pseudonym"}},
    }
    (folder / "recipe.yaml").write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    return folder, _prepare(folder, "one", "prepare.workers=1")


def _assert_same(expected: Path, actual: Path) -> None:
    """Byte for byte; report.json but for its step timings (seconds differ run to run)."""
    for name in OUTPUTS:
        if name == "report.json":
            ours, theirs = (json.loads((d / name).read_text(encoding="utf-8")) for d in (actual, expected))
            steps = [
                "read and record path",
                "split",
                "duplicates",
                "write splits",
                "language and token sample",
            ]
            assert list(ours.pop("step_seconds")) == [*steps, "reports"]
            theirs.pop("step_seconds")
            assert ours == theirs
            continue
        assert (actual / name).read_bytes() == (expected / name).read_bytes(), name


def test_the_fixture_holds_what_workers_could_get_wrong(one_worker: tuple[Path, Path]) -> None:
    report = json.loads((one_worker[1] / "report.json").read_text(encoding="utf-8"))
    assert (
        report["duplicates"]["counts"].get("exact_within_split", 0)
        + report["duplicates"]["counts"].get("exact_across_splits", 0)
        >= 20
    ), report["duplicates"]
    assert report["rejected_by_reason"]["broken JSON"] >= 10, report["rejected_by_reason"]
    assert report["rejected_by_reason"]["missing field"] >= 10, report["rejected_by_reason"]
    assert report["pii"]["found_by_type"]["PHONE"] >= 20, report["pii"]
    train = (one_worker[1] / "train.jsonl").read_text(encoding="utf-8")
    assert "<PHONE_" in train and "<EMAIL_" in train


def test_two_worker_processes_write_the_same_bytes_as_one(one_worker: tuple[Path, Path]) -> None:
    folder, expected = one_worker
    _assert_same(expected, _prepare(folder, "two", "prepare.workers=2"))


def test_ray_in_local_mode_writes_the_same_bytes_as_one_process(one_worker: tuple[Path, Path]) -> None:
    pytest.importorskip("ray")
    folder, expected = one_worker
    _assert_same(expected, _prepare(folder, "ray", "prepare.engine=ray", "prepare.workers=2"))

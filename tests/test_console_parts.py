"""The web console's parts on their own: upload names and limits, the queue's names and log
text, key scopes, reading a server's metrics. The whole console runs in tests/e2e/test_console.py."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.datastructures import UploadFile

from tunesmith.serve.auth import ApiKey
from tunesmith.web.jobs import JobQueue, clean_log
from tunesmith.web.runs_view import resolve_file, resolve_run
from tunesmith.web.served import loads, parse_metrics
from tunesmith.web.uploads import UploadRefused, check_name, data_files, pick, save_upload


@pytest.mark.parametrize("name", ["faq.jsonl", "评论 2024.csv", "export_v2-final.TSV", "data.parquet"])
def test_plain_names_of_data_files_are_taken(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("../../etc/passwd.jsonl", 400),
        ("..\\x.csv", 400),
        ("a/b.csv", 400),
        (".hidden.csv", 400),
        ("x..csv", 400),
        ("bad\x00.csv", 400),
        ("", 400),
        ("tool.exe", 415),
        ("faq.jsonl.sh", 415),
    ],
)
def test_unsafe_names_and_other_types_are_refused(name: str, status: int) -> None:
    with pytest.raises(UploadRefused) as refused:
        check_name(name)
    assert refused.value.status == status


def _save(folder: Path, name: str, data: bytes, limit: int = 1000) -> Path:
    return asyncio.run(save_upload(UploadFile(io.BytesIO(data), filename=name), folder, limit))


def test_an_upload_is_kept_whole_under_its_name_and_once(tmp_path: Path) -> None:
    first = _save(tmp_path, "faq.jsonl", b'{"q": "a"}\n')
    assert first.name == "faq.jsonl" and first.read_bytes() == b'{"q": "a"}\n'
    assert _save(tmp_path, "faq.jsonl", b'{"q": "a"}\n') == first  # the same file: the same path
    assert _save(tmp_path, "faq.jsonl", b'{"q": "b"}\n') != first
    for data, name, status in (
        (b"x" * 1001, "big.csv", 413),
        (b"\x00\x01\x02binary", "x.csv", 415),
        (b"not parquet", "x.parquet", 415),
        (b"", "empty.csv", 400),
    ):
        with pytest.raises(UploadRefused) as refused:
            _save(tmp_path, name, data)
        assert refused.value.status == status, name
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["faq.jsonl", "faq.jsonl"]
    assert _save(tmp_path, "u16.txt", "\ufeffhi".encode("utf-16")).is_file()  # UTF-16 text is text


def test_picking_stays_inside_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "a.csv").write_text("text,label\n", encoding="utf-8")
    (data / "notes.docx").write_text("x", encoding="utf-8")
    (tmp_path / "secret.csv").write_text("x", encoding="utf-8")
    (data / "link.csv").symlink_to(tmp_path / "secret.csv")
    assert pick(data, "sub/a.csv") == data / "sub" / "a.csv"
    assert "notes.docx" not in data_files(data)
    for wrong in ("../secret.csv", "link.csv", "/etc/passwd", "notes.docx"):
        with pytest.raises(UploadRefused):
            pick(data, wrong)


def test_run_folders_and_their_files_only(tmp_path: Path) -> None:
    run = tmp_path / "faq"
    run.mkdir()
    (run / "recipe.yaml").write_text("name: faq\n", encoding="utf-8")
    (tmp_path / "keys.json").write_text("{}", encoding="utf-8")
    assert resolve_run(tmp_path, "faq") == run
    assert resolve_file(run, "recipe.yaml") == (run / "recipe.yaml").resolve()
    for name in ("..", ".console", "faq/..", ""):
        with pytest.raises(KeyError):
            resolve_run(tmp_path, name)
    with pytest.raises(KeyError):
        resolve_file(run, "../keys.json")


def test_the_log_reads_as_a_person_reads_it() -> None:
    raw = "\x1b[1mprepare\x1b[0m\n 10%|#    | 1/10\r 50%|#####| 5/10\r100%|######| 10/10\ndone\n"
    assert clean_log(raw) == "prepare\n100%|######| 10/10\ndone\n"


def test_run_names_are_safe_and_free(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path / ".console" / "jobs", tmp_path)
    (tmp_path / "faq").mkdir()
    assert queue.name_taken("faq", "x") is not None
    assert queue.name_taken("../x", "x") is not None
    assert queue.name_taken("faq-new", "x") is None
    assert queue.free_name("faq", "x") == "faq-2"
    assert queue.free_name("评论 数据", "x") == "run"  # no ASCII letters left: a plain name


def test_run_scope_implies_read_and_neither_predicts() -> None:
    reader, runner = ApiKey("r", "0", ("read",)), ApiKey("w", "1", ("run",))
    client, admin = ApiKey("c", "2", ("predict",)), ApiKey("a", "3", ("admin",))
    assert reader.allows("read") and not reader.allows("run") and not reader.allows("predict")
    assert runner.allows("read") and runner.allows("run") and not runner.allows("predict")
    assert not client.allows("read") and admin.allows("run") and admin.allows("read")


def test_rates_and_latency_come_from_two_readings_of_the_metrics() -> None:
    registry = CollectorRegistry()
    requests = Counter("tunesmith_requests", "", ["route", "status", "version"], registry=registry)
    latency = Histogram(
        "tunesmith_request_seconds", "", ["route", "version"], buckets=(0.01, 0.1, 1.0), registry=registry
    )
    requests.labels("/v1/predict", "200", "v1").inc(5)
    before = parse_metrics(generate_latest(registry).decode(), at=100.0)
    for seconds in [0.005] * 18 + [0.05, 0.5]:
        requests.labels("/v1/predict", "200", "v1").inc()
        latency.labels("/v1/predict", "v1").observe(seconds)
    requests.labels("/v1/predict", "422", "v1").inc(4)
    after = parse_metrics(generate_latest(registry).decode(), at=102.0)
    (load,) = loads(before, after)
    assert load.version == "v1" and load.total == 29
    assert load.rate == pytest.approx(24 / 2) and load.error_rate == pytest.approx(4 / 24)
    assert load.mean_ms == pytest.approx(1000 * (18 * 0.005 + 0.55) / 20)
    assert load.p95_ms == pytest.approx(100.0)  # the 19th of 20 answers fell in the 0.1 s bucket


def test_the_form_is_the_recipe_init_wrote(tmp_path: Path) -> None:
    from helpers import faq_records, write_jsonl

    from tunesmith.errors import TunesmithError
    from tunesmith.web import recipe_form

    data = write_jsonl(tmp_path / "faq.jsonl", faq_records(60))
    recipe = tmp_path / "job" / "recipe.yaml"
    recipe.parent.mkdir()
    lines = recipe_form.analyse(data, recipe)
    assert lines == recipe_form.read_findings(recipe) and "classification" in lines[0]
    current = recipe_form.values(recipe)
    assert current["data.label_field"] == "intent" and current["training.epochs"] == "auto"
    assert recipe_form.wishes_of(dict(current), current) is None
    changed = dict(current) | {"model.name": "/models/tiny", "training.epochs": "3", "data.label_field": "id"}
    wishes = recipe_form.wishes_of(changed, current)
    assert wishes is not None and wishes.label == "id" and wishes.text == "question"
    overrides = recipe_form.overrides_of(changed, current, "# a comment\n\ntraining.warmup_ratio=0.2\n")
    assert overrides == ["model.name=/models/tiny", "training.epochs=3", "training.warmup_ratio=0.2"]
    with pytest.raises(TunesmithError, match="line 1"):
        recipe_form.overrides_of(current, current, "warmup 0.2")
    assert recipe_form.check(recipe, ["name=faq-2", "training.epochs=3"]) == "faq-2"
    with pytest.raises(TunesmithError, match=r"training\.epochz"):
        recipe_form.check(recipe, ["training.epochz=3"])

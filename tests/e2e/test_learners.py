"""The learners beside the transformer, through the real CLI and a real server: a run the linear
model wins, an ensemble of a table's learners and the transformer, a structured record read as
columns, a learner that fails, and a time limit too short for the transformer's epochs."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_helpers import Server, slim_environment, tunesmith
from helpers import build_tiny_model, faq_records, write_jsonl
from task_data import ALL_SIGNS, visit_records

from tunesmith.client import Client


def _sets(overrides: dict[str, Any]) -> list[str]:
    return [arg for key, value in overrides.items() for arg in ("--set", f"{key}={value}")]


def _answers(printed: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in printed.splitlines() if line.strip()]


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items() if k not in ("version", "request_id")}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


@pytest.fixture(scope="module")
def linear_run(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Path:
    """FAQ intents: the n-gram linear model against a transformer given one short epoch."""
    work = tmp_path_factory.mktemp("linear")
    write_jsonl(work / "faq.jsonl", faq_records(240))
    tunesmith("init", "faq.jsonl", cwd=work)
    overrides = {
        "model.name": tiny_model,
        "model.freeze_word_embeddings": "false",
        "training.epochs": 1,
        "training.learning_rate": 0.0001,
        "prepare.dedup.enabled": "false",
        "export.formats": "[onnx,onnx-int8]",
    }
    ran = tunesmith("run", "recipe.yaml", *_sets(overrides), "--output", "runs/faq", cwd=work)
    (work / "run.log").write_text(ran.stdout + ran.stderr, encoding="utf-8")
    return work / "runs" / "faq"


def test_the_linear_learner_wins_and_is_served_exported_and_answered_without_pytorch(
    linear_run: Path,
) -> None:
    said = " ".join((linear_run.parent.parent / "run.log").read_text(encoding="utf-8").split())
    summary = json.loads((linear_run / "train_summary.json").read_text())
    board = {row["learner"]: row for row in summary["leaderboard"]}
    assert set(board) == {"ngram_linear", "transformer"} and summary["learner"] == "ngram_linear", board
    assert board["ngram_linear"]["validation"]["macro_f1"] > board["transformer"]["validation"]["macro_f1"]
    assert all(row["fit_seconds"] > 0 and row["ms_per_row"] > 0 for row in board.values()), board
    assert "served: ngram_linear: macro_f1" in said and "learners (validation)" in said, said
    # int8 is a transformer's: not made for the linear model, and the run says why
    assert "onnx-int8: not made (applies to a transformer served alone" in said, said
    test = json.loads((linear_run / "metrics.json").read_text())["test"]
    tested = {row["learner"]: row for row in test["leaderboard"]}
    assert tested["ngram_linear"]["served"] and not tested["transformer"]["served"], tested
    assert test["accuracy"] > 0.9 and test["backend"] == "native", test
    assert "Learners" in (linear_run / "report.html").read_text(encoding="utf-8")
    assert "ngram_linear" in (linear_run / "model" / "README.md").read_text(encoding="utf-8")
    # the loser is kept beside the model (for its test figure), not in it
    assert (linear_run / "learners" / "transformer").is_dir()
    assert not (linear_run / "model" / "config.json").exists()
    parity = json.loads((linear_run / "export" / "onnx" / "parity.json").read_text())
    assert parity["passed"] and parity["agreement"] == 1.0 and parity["reference"] == "native", parity
    assert parity["member_max_abs_diff"]["ngram_linear"] <= 1e-4, parity
    assert (linear_run / "export" / "onnx" / "ngram_linear.onnx").is_file()


def test_a_slim_install_and_the_server_answer_the_linear_model_alike(
    linear_run: Path, tmp_path: Path
) -> None:
    texts = ["help:卡片丢失挂失?", "客服,包裹还没有收到", "如何重置密码", "退款什么时候到账"] * 4
    inputs = write_jsonl(tmp_path / "inputs.jsonl", [{"text": t} for t in texts])
    native = _answers(
        tunesmith(
            "predict", str(linear_run), "--file", str(inputs), "--backend", "torch", cwd=tmp_path
        ).stdout
    )
    slim = tunesmith(
        "predict",
        str(linear_run),
        "--file",
        str(inputs),
        cwd=tmp_path,
        env=slim_environment(tmp_path / "slim"),
    )
    assert "backend: onnx" in slim.stderr, slim.stderr  # the proven export, without PyTorch or scikit-learn
    assert _rounded(_answers(slim.stdout)) == _rounded(native)
    assert [a["label"] for a in native[:4]] == ["card", "delivery", "password", "refund"], native
    with Server(linear_run) as server:
        ready = httpx.get(f"{server.url}/ready", timeout=30).json()
        assert ready["backend"] == "onnx", ready

        def one(text: str) -> Any:  # single texts from 8 clients at once: the server batches them
            return httpx.post(f"{server.url}/v1/predict", json={"text": text}, timeout=60).json()[
                "predictions"
            ][0]

        with ThreadPoolExecutor(8) as pool:
            answered = list(pool.map(one, texts))
        assert _rounded(answered) == _rounded(native)
        with Client(server.url) as client:
            assert _rounded(client.predict(texts)) == _rounded(native)


def test_an_ensemble_of_column_learners_and_the_transformer_reads_structured_records(
    tmp_path: Path,
) -> None:
    """Visits with a list of symptoms and a map of findings: init makes them a table, the items
    and keys become columns, and the weighted ensemble answers alike natively, from ONNX, over
    HTTP; a request whose field has the wrong shape gets a 422 naming the field."""
    records = visit_records(400)
    write_jsonl(tmp_path / "visits.jsonl", records)
    texts = [json.dumps(r, ensure_ascii=False) for r in records] + ALL_SIGNS + ["symptoms findings 无"]
    model = build_tiny_model(tmp_path / "tiny", texts)
    initialised = tunesmith("init", "visits.jsonl", cwd=tmp_path)
    said = " ".join((initialised.stdout + initialised.stderr).split())
    assert "task tabular" in said and "one column per item" in said and "one column per key" in said, said
    overrides = {
        "model.name": model,
        "model.freeze_word_embeddings": "false",
        "training.epochs": 12,
        "training.batch_size": 16,
        "training.learning_rate": 0.003,
        "training.learners": "[column_linear,lightgbm,transformer]",
        "prepare.dedup.enabled": "false",
    }
    tunesmith("run", "recipe.yaml", *_sets(overrides), "--output", "runs/visits", cwd=tmp_path)
    run = tmp_path / "runs" / "visits"
    spec = json.loads((run / "model" / "learners.json").read_text())
    members = {m["learner"]: m["weight"] for m in spec["members"]}
    assert spec["served"] == "ensemble" and "transformer" in members and len(members) >= 2, spec
    assert abs(sum(members.values()) - 1) < 1e-9
    summary = json.loads((run / "train_summary.json").read_text())
    columns = next(r for r in summary["leaderboard"] if r["learner"] == "lightgbm")["details"]["features"]
    assert "item columns of symptoms" in columns and "key columns of findings" in columns, columns
    rows = [{"record": {"symptoms": r["symptoms"], "findings": r["findings"]}} for r in records[:12]]
    inputs = write_jsonl(tmp_path / "rows.jsonl", [r["record"] for r in rows])
    native = _answers(
        tunesmith("predict", str(run), "--file", str(inputs), "--backend", "torch", cwd=tmp_path).stdout
    )
    exported = _answers(
        tunesmith("predict", str(run), "--file", str(inputs), "--backend", "onnx", cwd=tmp_path).stdout
    )
    assert _rounded(exported) == _rounded(native)
    parity = json.loads((run / "export" / "onnx" / "parity.json").read_text())
    assert set(parity["member_max_abs_diff"]) == set(members) and parity["passed"], parity
    with Server(run) as server:
        response = httpx.post(
            f"{server.url}/v1/predict", json={"records": [r["record"] for r in rows]}, timeout=60
        )
        assert response.status_code == 200, response.text
        assert _rounded(response.json()["predictions"]) == _rounded(native)
        bad = {"symptoms": "咳嗽", "findings": {"发热": True}}  # a text where a list of items was
        refused = httpx.post(f"{server.url}/v1/predict", json={"record": bad}, timeout=60)
        assert refused.status_code == 422 and "field 'symptoms' must be a list of items" in refused.text, (
            refused.text
        )
        text = httpx.post(f"{server.url}/v1/predict", json={"text": "咳嗽"}, timeout=60)
        assert text.status_code == 422 and "'record'" in text.text, text.text


def test_a_learner_that_fails_is_on_the_leaderboard_and_the_others_go_on(tmp_path: Path) -> None:
    """Notes of free text only: the trees have no column to read and fail with a clear reason;
    the transformer is served."""
    rows = [
        {"note": f"customer {word} about the order number {i} and wants help today", "label": word}
        for i, word in enumerate(["refund", "delivery", "password", "card"] * 40)
    ]
    write_jsonl(tmp_path / "notes.jsonl", rows)
    model = build_tiny_model(tmp_path / "tiny", [r["note"] for r in rows])
    recipe = {
        "name": "notes",
        "data": {"train": "notes.jsonl", "text_template": "{note}", "label_field": "label"},
        "task": {"type": "tabular", "tabular_model": "best"},
        "prepare": {"dedup": {"enabled": False}},
        "model": {"name": str(model), "freeze_word_embeddings": False, "max_length": 32},
        "training": {
            "epochs": 4,
            "learning_rate": 0.01,
            "batch_size": 16,
            "learners": ["lightgbm", "transformer"],
        },
        "export": {"formats": []},
    }
    (tmp_path / "recipe.yaml").write_text(json.dumps(recipe), encoding="utf-8")
    ran = tunesmith("run", "recipe.yaml", "--output", "runs/notes", cwd=tmp_path)
    said = " ".join((ran.stdout + ran.stderr).split())
    assert "lightgbm failed" in said and "the other learners go on" in said, said
    summary = json.loads((tmp_path / "runs" / "notes" / "train_summary.json").read_text())
    failed = next(r for r in summary["leaderboard"] if r["learner"] == "lightgbm")
    assert failed["status"] == "failed" and "no field becomes a column" in failed["error"], failed
    assert summary["learner"] == "transformer"


def test_a_time_limit_too_short_for_every_epoch_trains_a_stated_part_of_them(
    tmp_path: Path, tiny_model: Path
) -> None:
    write_jsonl(tmp_path / "faq.jsonl", faq_records(240))
    tunesmith("init", "faq.jsonl", cwd=tmp_path)
    overrides = {
        "model.name": tiny_model,
        "model.freeze_word_embeddings": "false",
        "training.epochs": 400,  # far more steps than the limit allows
        "training.early_stopping_patience": "null",
        "prepare.dedup.enabled": "false",
        "export.formats": "[]",
    }
    ran = tunesmith(
        "run", "recipe.yaml", *_sets(overrides), "--time-limit", "25s", "--output", "runs/t", cwd=tmp_path
    )
    said = " ".join((ran.stdout + ran.stderr).split())
    summary = json.loads((tmp_path / "runs" / "t" / "train_summary.json").read_text())
    plan = summary["time_plan"]
    assert plan["cut"] and 0 < plan["steps"] < plan["planned_steps"], plan
    trained = summary["steps"]
    stopped = summary["stopped_at_deadline"]
    assert trained == plan["steps"] or (stopped is not None and trained == stopped), summary
    assert (
        f"the transformer trains {plan['steps']:,} of its {plan['planned_steps']:,} planned steps" in said
    ), said
    # the fast learner came first, in its own time
    assert said.index("ngram_linear: fitted") < said.index("time limit: the transformer trains")
    assert summary["budget"]["limit_s"] == 25


def test_the_console_run_page_shows_every_learner_on_validation_and_test(linear_run: Path) -> None:
    from fastapi.testclient import TestClient

    from tunesmith.web.app import create_app
    from tunesmith.web.settings import ConsoleSettings

    client = TestClient(create_app(ConsoleSettings(root=linear_run.parent)))
    page = client.get(f"/runs/{linear_run.name}")
    assert page.status_code == 200, page.text
    section = page.text[page.text.index('id="learners"') :]
    assert "ngram_linear <strong>(served)</strong>" in section and "transformer" in section
    assert "Validation macro_f1" in section and "Test macro_f1" in section

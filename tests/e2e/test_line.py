"""The whole line as a user runs it: init -> run -> serve -> client over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from cli_helpers import Server, tunesmith
from conftest import fast_overrides
from helpers import faq_records, write_jsonl

from tunesmith.client import Client, ClientError


def test_init_guesses_fields_language_and_default_model(trained: Path) -> None:
    recipe = (trained.parent.parent / "recipe.yaml").read_text(encoding="utf-8")
    assert "text_field: question" in recipe and "label_field: intent" in recipe
    assert "name: multilingual-e5-small" in recipe  # Chinese data -> the multilingual default


def test_run_folder_holds_the_bundle(trained: Path) -> None:
    for rel in (
        "recipe.yaml",
        "manifest.json",
        "metrics.json",
        "data/report.json",
        "data/rejected.jsonl",
        "model/config.json",
        "model/model.safetensors",
        "model/tokenizer.json",
        "model/labels.json",
        "confusion_matrix_test.png",
        "per_class_test.csv",
        "training_curves.png",
    ):
        assert (trained / rel).is_file(), rel
    assert not list(trained.rglob("*.bin")) and not list(trained.rglob("*.pt"))
    assert list((trained / "logs").glob("events.out.tfevents.*"))
    report = json.loads((trained / "data" / "report.json").read_text())
    assert report["rows_accepted"] == 241 and report["rows_rejected"] == 0
    manifest = json.loads((trained / "manifest.json").read_text())
    assert manifest["seed"] == 42 and len(manifest["data_fingerprint"]) == 64
    assert "model/model.safetensors" in manifest["files"] and "transformers" in manifest["libraries"]
    metrics = json.loads((trained / "metrics.json").read_text())
    for split in ("validation", "test"):
        assert {"accuracy", "macro_f1"} <= set(metrics[split])
    resolved = (trained / "recipe.yaml").read_text(encoding="utf-8")
    assert "learning_rate: 0.01" in resolved  # the --set values are in the resolved recipe
    assert "tiny-bert" in resolved


def test_served_answers_match_cli_predict_on_raw_and_prepared_text(trained: Path) -> None:
    text = "如何重置密码?"
    raw = "我的手机１３９１２３４５６７８收不到验证码\u200b"  # full-width digits, a zero-width space
    prepared = "我的手机[PHONE]收不到验证码"  # what prepare made of such a text for training
    cli = [
        json.loads(tunesmith("predict", str(trained), t, cwd=trained).stdout) for t in (text, raw, prepared)
    ]
    assert cli[1]["probabilities"] == pytest.approx(cli[2]["probabilities"], abs=1e-6)
    with Server(trained) as server, Client(server.url) as client:
        served = client.predict(text)
        batch = client.predict([text, "物流太慢了!"])
        served_raw = client.predict(raw)
    assert served["label"] == cli[0]["label"]
    assert served["probabilities"] == pytest.approx(cli[0]["probabilities"], abs=1e-6)
    assert batch[0]["label"] == cli[0]["label"] and len(batch) == 2
    assert served_raw["probabilities"] == pytest.approx(cli[2]["probabilities"], abs=1e-6)


def test_predict_file(trained: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "in.jsonl"
    inputs.write_text('{"text": "退款什么时候到账"}\n{"text": "my card was declined"}\n', encoding="utf-8")
    out = tunesmith("predict", str(trained), "--file", str(inputs), cwd=tmp_path).stdout
    answers = [json.loads(line) for line in out.splitlines()]
    assert len(answers) == 2 and all("label" in a for a in answers)


def test_bad_requests_get_4xx_with_a_message(trained: Path) -> None:
    with Server(trained, "--max-texts", "4") as server:
        url = f"{server.url}/v1/predict"
        cases = {
            "not json": (
                httpx.post(url, content=b"{not json", headers={"content-type": "application/json"}),
                400,
            ),
            "wrong type": (httpx.post(url, json={"text": 5}), 422),
            "empty text": (httpx.post(url, json={"text": "  "}), 422),
            "both fields": (httpx.post(url, json={"text": "a", "texts": ["b"]}), 422),
            "unknown field": (httpx.post(url, json={"txt": "a"}), 422),
            "batch too large": (httpx.post(url, json={"texts": ["a"] * 5}), 413),
            "body too large": (httpx.post(url, json={"text": "长" * 400_000}), 413),
        }
        for name, (response, status) in cases.items():
            assert response.status_code == status, (name, response.text)
            assert response.json()["error"], name
        long_text = "很长的问题" * 2000  # far longer than max_length: truncated, answered
        assert httpx.post(url, json={"text": long_text}).status_code == 200
        assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
        assert httpx.get(f"{server.url}/openapi.json").status_code == 200
        with Client(server.url) as client, pytest.raises(ClientError, match="at most 4"):
            client.predict(["a"] * 5)


def test_run_refuses_an_existing_run_unless_overwrite(trained: Path, tiny_model: Path) -> None:
    work = trained.parent.parent
    result = tunesmith("run", "recipe.yaml", "--output", "runs/faq", cwd=work, check=False)
    assert result.returncode == 2 and "--overwrite" in result.stderr
    assert (trained / "manifest.json").is_file()  # nothing was lost


def test_stage_verbs_one_by_one(tmp_path: Path, tiny_model: Path) -> None:
    write_jsonl(tmp_path / "faq.jsonl", faq_records(120))
    (tmp_path / "r.yaml").write_text(
        "data: {train: faq.jsonl, text_field: question, label_field: intent}\n", encoding="utf-8"
    )
    sets = [arg for item in fast_overrides(tiny_model) for arg in ("--set", item)]
    tunesmith("prepare", "r.yaml", *sets, "-o", "run", cwd=tmp_path)
    assert (tmp_path / "run" / "data" / "train.jsonl").is_file()
    assert not (tmp_path / "run" / "model").exists()
    unfinished = tunesmith("serve", "run", cwd=tmp_path, check=False)
    assert unfinished.returncode == 2 and "not a finished run" in unfinished.stderr
    tunesmith("train", "run", cwd=tmp_path)
    assert (tmp_path / "run" / "model" / "model.safetensors").is_file()
    tunesmith("evaluate", "run", cwd=tmp_path)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert "metrics.json" in manifest["files"] and manifest["metrics"]["test"]["accuracy"] >= 0


CANARIES = {
    "phone": "13912345678",
    "id_card": "11010519491231002X",
    "email": "canary.person@example.org",
    "card": "6222021234567894",
    "name": "欧阳娜娜",
    "address": "北京市朝阳区建国路88号",
}


def test_planted_pii_reaches_no_artifact_of_a_whole_run(tmp_path: Path, tiny_model: Path) -> None:
    records = faq_records(160)
    records[0]["question"] = f"手机{CANARIES['phone']}收不到验证码"
    records[1]["question"] = f"身份证{CANARIES['id_card']}认证失败"
    records[2]["question"] = f"邮箱 {CANARIES['email']} 收不到退款通知"
    records[3]["question"] = f"卡号 {CANARIES['card']} 被冻结"
    records[4] = {"question": f"请回电 {CANARIES['phone']}", "intent": ""}  # rejected record
    records[5]["question"] = f"客户{CANARIES['name']}说快递没有送到{CANARIES['address']}"
    write_jsonl(tmp_path / "faq.jsonl", records)
    tunesmith("init", "faq.jsonl", cwd=tmp_path)
    sets = [arg for item in fast_overrides(tiny_model) for arg in ("--set", item)]
    result = tunesmith("run", "recipe.yaml", *sets, "--output", "runs/canary", cwd=tmp_path)
    for value in CANARIES.values():
        assert value not in result.stdout + result.stderr
    canaries = [arg for value in CANARIES.values() for arg in ("--canary", value)]
    scan = tunesmith("scan", "runs/canary", *canaries, cwd=tmp_path, check=False)
    assert scan.returncode == 0, scan.stderr
    card = (tmp_path / "runs" / "canary" / "model" / "README.md").read_text(encoding="utf-8")
    assert "## Evaluation" in card and "De-identification was on" in card  # scanned above too
    report = json.loads((tmp_path / "runs" / "canary" / "data" / "report.json").read_text())
    found = {"PHONE": 2, "ID_CARD": 1, "EMAIL": 1, "BANK_CARD": 1, "PERSON": 1, "ADDRESS": 1}
    assert report["pii"]["found_by_type"] == found  # the rejected record's phone is counted too

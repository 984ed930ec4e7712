"""Every task type through the real CLI and a real server: run -> reload -> predict, with the
same answers from `tunesmith predict` and from HTTP. Each task trains a tiny model on its own
small data (a tokenizer built from that data), so the whole file runs in a few minutes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import yaml
from cli_helpers import JAVA_MAIN, Server, java, slim_environment, tunesmith
from helpers import build_tiny_causal_lm, build_tiny_marian, build_tiny_model, write_jsonl
from task_data import (
    FAQ_ANSWERS,
    FAQ_ANSWERS_WITH_PHONE,
    SUPPORT_ANSWERS,
    clause_records,
    instruction_records,
    matching_records,
    ner_records,
    plain_text,
    qa_records,
    transaction_rows,
    translation_rows,
)
from websockets.sync.client import connect

from tunesmith.client import AsyncClient, Client
from tunesmith.tasks.generation import tidy_generated


@dataclass
class Case:
    records: Callable[[], list[dict[str, Any]]]
    recipe: dict[str, Any]
    inputs: list[dict[str, str]]  # what is sent to predict
    vocabulary: Callable[[list[dict[str, Any]]], list[str]]
    check: Callable[[dict[str, Any], list[dict[str, Any]]], None]  # (metrics, answers)
    overrides: dict[str, Any] = field(default_factory=dict)
    build_model: Callable[[Path, list[str]], Path] = build_tiny_model


# far longer than model.max_length (64 tokens): read in overlapping windows, nothing cut off
LONG_NER_TEXT = "会议在周一召开。" * 12 + "李娜昨天在杭州参加了清华大学的会议。"


def _check_ner(metrics: dict[str, Any], answers: list[dict[str, Any]]) -> None:
    assert metrics["test"]["f1"] > 0.5, metrics["test"]
    found = {(e["text"], e["label"]) for e in answers[0]["entities"]}
    assert ("李娜", "nr") in found or ("杭州", "ns") in found, answers[0]
    late = {(e["text"], e["label"]) for e in answers[2]["entities"] if e["start"] >= 96}
    assert ("李娜", "nr") in late or ("杭州", "ns") in late, answers[2]


def _check_matching(metrics: dict[str, Any], answers: list[dict[str, Any]]) -> None:
    test = metrics["test"]
    assert test["roc_auc"] > 0.8 and test["ranking_queries"] > 0 and test["mrr@10"] > 0.7, test
    assert answers[0]["match"] is True and answers[1]["match"] is False, answers[:2]
    top = answers[2]["answers"]
    assert len(top) == 3 and top[0]["answer"] == FAQ_ANSWERS["password"], top


# A cross-encoder learns from scratch to compare the two texts through attention: it needs small
# steps and many of them (measured: lr 0.01 collapses to a constant score; 0.001 x 40 epochs
# reaches ROC-AUC 0.92 on the test split).
CROSS_ENCODER_TRAINING = {
    "training.epochs": 40,
    "training.learning_rate": 0.001,
    "training.batch_size": 8,
    "training.early_stopping_patience": None,
}


def _matching(mode: str) -> Case:
    answers = FAQ_ANSWERS_WITH_PHONE if mode == "bi" else FAQ_ANSWERS
    return Case(
        records=lambda: matching_records(120, answers=answers),
        recipe={
            "data": {"text_field": "question", "pair_field": "answer", "label_field": "label"},
            "task": {"type": "matching", "matching_mode": mode, "top_k": 3},
            # a question's candidates stay together, so ranking is measured on unseen questions
            "split": {"method": "group", "group_field": "question"},
        },
        inputs=[
            {"text": "如何重置密码?", "text_pair": FAQ_ANSWERS["password"]},
            {"text": "如何重置密码?", "text_pair": FAQ_ANSWERS["refund"]},
            {"text": "如何重置密码"},
        ],
        vocabulary=lambda records: [r["question"] for r in records] + list(answers.values()),
        check=_check_matching,
        # a cross-encoder learns the pair interaction from scratch: slower, steadier steps; the
        # bi-encoder keeps the phone number of an answer in its knowledge base (de-identification off)
        # so that /v1/answer's safety filter is what masks it
        overrides=CROSS_ENCODER_TRAINING if mode == "cross" else {"prepare.pii": {"enabled": False}},
    )


def _check_tabular(metrics: dict[str, Any], answers: list[dict[str, Any]]) -> None:
    test = metrics["test"]
    # every column learner and the transformer scored on validation and test; trees are served
    board = {row["learner"]: row for row in test["leaderboard"]}
    assert set(board) >= {"lightgbm", "xgboost", "column_linear", "transformer"}, board
    served = [name for name, row in board.items() if row["served"]]
    assert served and served[0] != "transformer", board
    assert test["pr_auc"] > 0.9 and test["backend"] == "native", test
    cost = test["cost"]  # the threshold was chosen for the recipe's costs
    assert cost["total"] <= min(cost["flag_nothing"], cost["flag_everything"]), cost
    assert [a["label"] for a in answers] == ["1", "0"] and set(answers[0]["probabilities"]) == {"0", "1"}


def _check_qa(metrics: dict[str, Any], answers: list[dict[str, Any]]) -> None:
    assert metrics["test"]["f1"] > 0.6, metrics["test"]
    assert answers[0]["answer"] == "成都" and answers[1]["answer"] == "新华社", answers


QA_CONTEXT = "会议在周一召开。王芳住在成都。相关材料已经归档。王芳的单位是新华社。"


def _check_seq2seq(metrics: dict[str, Any], answers: list[dict[str, Any]]) -> None:
    test = metrics["test"]
    assert test["bleu_tokenizer"] == "zh" and test["chrf"] > 50 and test["rouge_l"] > 0.5, test
    assert answers[0]["text"] == "谢谢", answers
    # the decoder before fine-tuning, shown three training pairs, answered the same test records
    untrained = test["untrained"]
    assert "shown 3 training pairs" in untrained["answer"] and untrained["gain_low"] > 0, untrained


def _check_causal_lm(metrics: dict[str, Any], answers: list[dict[str, Any]]) -> None:
    assert metrics["test"]["rouge_l"] > 0.8, metrics["test"]
    assert answers[0]["text"] == SUPPORT_ANSWERS["refund"], answers


def _check_multitask(metrics: dict[str, Any], answers: list[dict[str, Any]]) -> None:
    test = metrics["test"]
    assert test["risk.macro_f1"] > 0.6 and test["tags.micro_f1"] > 0.6, test
    assert answers[0]["risk"]["label"] == "high" and "ter" in answers[0]["tags"]["labels"], answers[0]
    assert answers[1]["risk"]["label"] == "low" and answers[1]["tags"]["labels"] == [], answers[1]


CASES = {
    "multitask": Case(
        records=lambda: clause_records(320),
        recipe={
            "data": {"text_field": "clause"},
            "task": {
                "type": "multitask",
                "domain_adapter": 16,
                "heads": [
                    {"name": "risk", "label_field": "risk_level", "type": "classification"},
                    {"name": "tags", "label_field": "unfair_categories", "type": "multilabel", "weight": 2.0},
                ],
            },
        },
        inputs=[
            {"text": "We may terminate your account at any time without notice."},
            {"text": "Welcome to our website."},
        ],
        vocabulary=lambda records: [r["clause"] for r in records],
        check=_check_multitask,
        overrides={"training.epochs": 8},
    ),
    "causal_lm": Case(
        records=lambda: instruction_records(240),
        recipe={
            "data": {"text_field": "instruction", "label_field": "response"},
            "task": {"type": "causal_lm", "max_new_tokens": 24},
        },
        inputs=[{"text": "refund status"}, {"text": "activate card"}],
        vocabulary=lambda records: [r["instruction"] + " " + r["response"] for r in records],
        check=_check_causal_lm,
        overrides={"training.epochs": 8, "training.learning_rate": 0.005},
        build_model=build_tiny_causal_lm,
    ),
    # the default kind: a decoder reads the source inside a prompt (the packaged Gemma 3 in real
    # runs; a tiny Llama here), learns the target after it, and stops at the line's end
    "seq2seq": Case(
        records=lambda: translation_rows(300),
        recipe={
            "data": {"text_field": "en", "label_field": "zh"},
            "task": {"type": "seq2seq", "max_new_tokens": 12, "prompt": "English: {text}\nChinese:"},
        },
        inputs=[{"text": "thank you"}, {"text": "where is the bank"}],
        vocabulary=lambda records: [r["en"] + " " + r["zh"] for r in records] + ["English: Chinese:"],
        check=_check_seq2seq,
        overrides={
            "training.epochs": 10,
            "training.learning_rate": 0.005,
            "evaluation.robustness": ["case", "truncation"],
        },
        build_model=build_tiny_causal_lm,
    ),
    "extractive_qa": Case(
        records=lambda: qa_records(400),
        recipe={
            "data": {"text_field": "question", "pair_field": "context", "label_field": "answer"},
            "task": {"type": "extractive_qa", "doc_stride": 16},
        },
        inputs=[
            {"text": "王芳住在哪里?", "text_pair": QA_CONTEXT},
            {"text": "王芳在哪个单位?", "text_pair": QA_CONTEXT},
        ],
        vocabulary=lambda records: [r["question"] + r["context"] for r in records],
        check=_check_qa,
        overrides={"training.epochs": 8},
    ),
    # numbers and short categories only: both learners train (`best`), the trees find the rule and
    # are served; requests are rows, not text
    "tabular": Case(
        records=lambda: transaction_rows(600),
        recipe={
            "data": {
                "text_template": "{type} of {amount} at hour {hour} by {merchant}",
                "label_field": "is_fraud",
            },
            "task": {"type": "tabular", "tabular_model": "best", "cost": {"miss": 20, "false_alarm": 1}},
            "split": {"method": "time", "time_field": "step"},
        },
        inputs=[
            {"record": {"type": "TRANSFER", "amount": 8000.5, "hour": 2, "merchant": "m3"}},
            {"record": {"type": "PAYMENT", "amount": 12.0, "hour": 14, "merchant": "m1"}},
        ],
        vocabulary=lambda records: [
            f"{r['type']} of {r['amount']} at hour {r['hour']} by {r['merchant']}" for r in records
        ],
        check=_check_tabular,
    ),
    "matching_cross": _matching("cross"),
    "matching_bi": _matching("bi"),
    "token_classification": Case(
        records=lambda: ner_records(300),
        recipe={
            "data": {"text_field": "tagged", "label_field": None},
            "task": {"type": "token_classification"},
        },
        inputs=[
            {"text": "李娜昨天在杭州参加了清华大学的会议。"},
            {"text": "新华社派王芳前往成都调研。"},
            {"text": LONG_NER_TEXT},
        ],
        vocabulary=lambda records: [plain_text(r["tagged"]) for r in records],
        check=_check_ner,
        overrides={"training.epochs": 6, "evaluation.robustness": ["width", "typos"]},
    ),
}


def _recipe(data_file: Path, model: Path, case: Case) -> dict[str, Any]:
    recipe: dict[str, Any] = {
        "name": "task",
        "data": {"train": data_file.name, **case.recipe["data"]},
        "task": case.recipe["task"],
        "prepare": {"dedup": {"enabled": False}},
        "model": {"name": str(model), "freeze_word_embeddings": False, "max_length": 64},
        "training": {"epochs": 4, "batch_size": 16, "learning_rate": 0.01, "logging_steps": 5},
        # this test is about training, reloading and answering alike; the default gate has its own
        # tests (test_gates, test_defaults), and on 36 test records its interval is too wide to clear
        # zero every time (a cross-encoder at ROC-AUC 0.93 once scored F1 0.60 against 0.50)
        "evaluation": {"baseline_gate": False},
    }
    for key, value in case.overrides.items():
        section, name = key.split(".")
        recipe.setdefault(section, {})[name] = value
    if case.build_model is build_tiny_model and recipe["task"]["type"] not in GENERATES:
        recipe["export"] = {"formats": ["onnx"]}  # `run` exports last; serving then answers from it
        if recipe["task"]["type"] == "tabular":  # int8 is for a transformer's weights: trees keep fp32
            recipe["export"]["formats"].append("onnx-int8")
        recipe["gates"] = {"export.onnx.agreement": "== 1"}  # gates read export figures after the export
    return recipe


LEAD_METRIC = {"seq2seq": "bleu", "token_classification": "f1"}
GENERATES = {"seq2seq", "causal_lm"}
# exports that answer with the `tokenizers` library alone (token windows and offsets need transformers)
PLAIN_TOKENS = {
    "tabular",
    "matching_cross",
    "matching_bi",
}  # answered by PyTorch only: no one-pass graph to export
# task types whose `compare` is also run, and the test its p-values name
COMPARED = {"seq2seq": "sacrebleu paired bootstrap", "token_classification": "paired bootstrap"}


@pytest.mark.parametrize("task_type", sorted(CASES))
def test_task_trains_reloads_and_answers_alike_from_cli_and_http(
    task_type: str, tmp_path: Path, java_client: Path
) -> None:
    case = CASES[task_type]
    records = case.records()
    data_file = write_jsonl(tmp_path / "data.jsonl", records)
    model = case.build_model(tmp_path / "tiny", case.vocabulary(records))
    (tmp_path / "recipe.yaml").write_text(
        yaml.safe_dump(_recipe(data_file, model, case), allow_unicode=True), encoding="utf-8"
    )
    ran = tunesmith("run", "recipe.yaml", "--output", "runs/task", cwd=tmp_path)
    run = tmp_path / "runs" / "task"
    if task_type == "tabular":  # int8 not made for learners: the run ends well, served by ONNX, and says so
        said = " ".join((ran.stdout + ran.stderr).split())
        assert "onnx-int8: not made (applies to a transformer served alone" in said, said
        assert "not kept" in (run / "report.html").read_text(encoding="utf-8")
    metrics = json.loads((run / "metrics.json").read_text())
    intervals = metrics["test"]["confidence_intervals"]  # every task type: bootstrap intervals
    assert intervals and all(low <= metrics["test"][name] <= high for name, (low, high) in intervals.items())
    if "evaluation.robustness" in case.overrides:  # the task's lead metric under each rewrite
        robustness = metrics["test"]["robustness"]
        assert robustness["metric"] == LEAD_METRIC[task_type] and "flip_rate" in robustness
        kept = {"seq2seq": {"clean", "case", "truncation"}, "token_classification": {"clean", "width"}}
        assert set(robustness["suites"]) == kept[task_type]  # typos would move the entity spans
    if task_type in COMPARED:  # a run against itself: the same answers, no difference
        compared = tunesmith("compare", str(run), str(run), cwd=tmp_path)
        said = compared.stdout + compared.stderr
        assert said.count("no significant difference") == len(intervals), said
        assert COMPARED[task_type] in said
    inputs = write_jsonl(tmp_path / "inputs.jsonl", case.inputs)
    printed = tunesmith("predict", str(run), "--file", str(inputs), cwd=tmp_path)
    cli = [json.loads(line) for line in printed.stdout.splitlines() if line.strip()]
    case.check(metrics, cli)
    _check_export(run, task_type, inputs, cli, printed.stderr, tmp_path)
    if "record" in case.inputs[0]:  # a tabular run answers rows
        _check_rows_served(run, [i["record"] for i in case.inputs], cli, java_client)
        return
    texts = [i["text"] for i in case.inputs]
    pairs = [i.get("text_pair") for i in case.inputs] if any("text_pair" in i for i in case.inputs) else None
    with Server(run, *_serve_args(task_type, tmp_path)) as server:
        body: dict[str, Any] = {"texts": texts} if pairs is None else {"texts": texts, "text_pairs": pairs}
        response = httpx.post(f"{server.url}/v1/predict", json=body, timeout=60)
        with Client(server.url) as client:  # the SDK, one input at a time
            one = client.predict(texts[0], pairs[0] if pairs else None)
        _check_openai_and_streaming(server, task_type, texts, cli)
        if task_type == "matching_bi":
            _check_knowledge_answers(server, run, java_client)
    assert response.status_code == 200, response.text
    assert _rounded(response.json()["predictions"]) == _rounded(cli)
    assert _rounded(one) == _rounded(cli[0])


def _check_rows_served(run: Path, rows: list[dict[str, Any]], cli: list[Any], java_client: Path) -> None:
    """The served trees answer rows as the CLI did (HTTP, the SDK and the Java client, two rows
    per request); a row missing a column and text sent to trees get a 422 that says what to send."""
    with Server(run) as server:
        response = httpx.post(f"{server.url}/v1/predict", json={"records": rows}, timeout=60)
        assert response.status_code == 200, response.text
        assert _rounded(response.json()["predictions"]) == _rounded(cli)
        with Client(server.url) as client:
            assert _rounded(client.predict_rows(rows[0])) == _rounded(cli[0])
        lines = "\n".join(json.dumps(row) for row in rows)
        ran = java(java_client, JAVA_MAIN, server.url, "predict-rows", "--batch-size", "2", stdin=lines)
        assert ran.returncode == 0, ran.stderr
        answered = [json.loads(line) for line in ran.stdout.splitlines()]
        assert {a.pop("version") for a in answered} == {response.json()["version"]}
        assert all(a.pop("request_id") for a in answered)
        assert _rounded(answered) == _rounded(cli)
        missing = {k: v for k, v in rows[0].items() if k != "amount"}
        bad = httpx.post(f"{server.url}/v1/predict", json={"record": missing}, timeout=60)
        assert bad.status_code == 422 and "lacks column 'amount'" in bad.text, bad.text
        text = httpx.post(f"{server.url}/v1/predict", json={"text": "TRANSFER of 9000"}, timeout=60)
        assert text.status_code == 422 and "'record'" in text.text, text.text
        ready = httpx.get(f"{server.url}/ready", timeout=30).json()
        assert ready["backend"] == "onnx", ready  # the trees' proven ONNX export answers


def _check_openai_and_streaming(server: Server, task_type: str, texts: list[str], cli: list[Any]) -> None:
    """A run that generates text (causal LM, seq2seq): OpenAI chat completions, streamed or not,
    and WebSocket tokens give the CLI's answer. Bi-encoder: OpenAI embeddings, one unit vector
    per text."""
    if task_type in GENERATES:
        chat = {"messages": [{"role": "user", "content": texts[0]}]}
        whole = httpx.post(f"{server.url}/v1/chat/completions", json=chat, timeout=60).json()
        assert whole["choices"][0]["message"]["content"] == cli[0]["text"]
        short = httpx.post(
            f"{server.url}/v1/chat/completions", json=chat | {"max_tokens": 2}, timeout=60
        ).json()
        assert (
            cli[0]["text"]
            .replace(" ", "")
            .startswith(short["choices"][0]["message"]["content"].replace(" ", ""))
        )
        pieces, lines = [], []
        with httpx.stream(
            "POST", f"{server.url}/v1/chat/completions", json=chat | {"stream": True}
        ) as events:
            assert events.headers["content-type"].startswith("text/event-stream")
            for line in events.iter_lines():
                lines.append(line)
                if line.startswith("data: ") and line != "data: [DONE]":
                    pieces.append(json.loads(line[6:])["choices"][0]["delta"].get("content", ""))
        assert [x for x in lines if x][-1] == "data: [DONE]" and tidy_generated("".join(pieces)) == cli[0][
            "text"
        ]
        with connect(f"ws://127.0.0.1:{server.port}/v1/ws") as socket:
            socket.send(json.dumps({"id": "q", "text": texts[0], "stream": True}))
            messages = []
            while not messages or not messages[-1].get("done"):
                messages.append(json.loads(socket.recv(timeout=60)))
        tokens = "".join(m["token"] for m in messages if "token" in m)
        assert tidy_generated(tokens) == cli[0]["text"] == messages[-1]["text"]
        with Client(server.url) as client:  # the SDK: whole, and streamed
            assert client.generate(texts[0]) == cli[0]["text"]
            assert tidy_generated("".join(client.stream(texts[0]))) == cli[0]["text"]

        async def in_async() -> tuple[str, str]:
            async with AsyncClient(server.url) as client:
                return await client.generate(texts[0]), "".join([p async for p in client.stream(texts[0])])

        whole_async, streamed_async = asyncio.run(in_async())
        assert whole_async == tidy_generated(streamed_async) == cli[0]["text"]
        # far over model.max_length: read as training read it, its first max_length tokens (the
        # recipe's default, serve.long_inputs: truncate), never a 500
        long = httpx.post(f"{server.url}/v1/predict", json={"text": texts[0] + " ok" * 300}, timeout=60)
        assert long.status_code == 200, long.text
    if task_type == "matching_bi":
        body = httpx.post(f"{server.url}/v1/embeddings", json={"input": texts[:2]}, timeout=60).json()
        vectors = [np.array(d["embedding"]) for d in body["data"]]
        assert len(vectors) == 2 and all(abs(float(np.linalg.norm(v)) - 1) < 1e-3 for v in vectors)
        with Client(server.url, batch_size=1) as client:  # the SDK, one text per request
            assert np.allclose(client.embed(texts[:2]), vectors, atol=1e-6)


def _serve_args(task_type: str, folder: Path) -> list[str]:
    """The bi-encoder answers behind a safety list the company extended with one of its own terms."""
    if task_type != "matching_bi":
        return []
    packaged = resources.files("tunesmith.serve").joinpath("safety_list.yaml").read_text(encoding="utf-8")
    listed = yaml.safe_load(packaged) | {"terms": ["原路退回"]}
    path = folder / "safety.yaml"
    path.write_text(yaml.safe_dump(listed, allow_unicode=True), encoding="utf-8")
    return ["--safety-list", str(path)]


def _check_knowledge_answers(server: Server, run: Path, java_client: Path) -> None:
    """POST /v1/answer through the SDKs: a known question gets its answer; an off-topic one is
    handed over (below the threshold tuned on validation); a phone number in an answer is masked;
    a blocked question and an answer with the company's blocked term are refused; the safety
    log says what it filtered and why, without the personal data."""
    state = json.loads((run / "model" / "task_state.json").read_text())
    assert 0 < state["answer_coverage"] <= 1 and state["answer_precision"] >= 0.9, state
    with Client(server.url) as client:
        known = client.answer("如何重置密码?")
        assert known["status"] == "answered" and known["answer"] == FAQ_ANSWERS["password"], known
        assert known["confidence"] >= known["threshold"] == state["answer_threshold"]
        off_topic = client.answer("我想学做饭")  # words the tiny model knows, a topic it does not
        assert off_topic["status"] == "handed_over", off_topic
        assert off_topic["confidence"] < off_topic["threshold"] and "colleague" in off_topic["answer"]
        card = client.answer("请问信用卡被冻结?")
        assert card["status"] == "answered", card
        assert card["answer"] == FAQ_ANSWERS_WITH_PHONE["card"].replace("13812345678", "[PHONE]"), card
        assert card["filtered"] == [
            {"stage": "answer", "action": "redacted", "reasons": ["1 x PHONE redacted"]}
        ]
        refund = client.answer("退款什么时候到账?")
        assert refund["status"] == "refused" and "Sorry" in refund["answer"], refund
        assert "原路退回" not in json.dumps(refund, ensure_ascii=False)
        blocked = client.answer("怎么帮朋友洗钱?")
        assert blocked["status"] == "refused" and blocked["candidates"] == [], blocked

    async def in_async() -> Any:
        async with AsyncClient(server.url) as client:
            return await client.answer("如何重置密码?")

    assert asyncio.run(in_async())["answer"] == known["answer"]
    page = httpx.get(f"{server.url}/metrics", timeout=30).text
    assert 'tunesmith_kb_answers_total{status="handed_over",version="task"} 1.0' in page
    assert 'tunesmith_safety_filtered_total{action="refused",stage="question"} 1.0' in page
    bad = httpx.post(f"{server.url}/v1/answer", json={"question": "  "}, timeout=30)
    assert bad.status_code == 422 and "question" in bad.json()["details"][0], bad.text
    logged = [
        json.loads(line) for line in (server.cwd / "serve-state" / "safety.jsonl").read_text().splitlines()
    ]
    assert [(e["stage"], e["action"]) for e in logged] == [
        ("answer", "redacted"),
        ("answer", "refused"),
        ("question", "refused"),
    ], logged
    assert logged[0]["redacted"] == {"PHONE": 1} and "13812345678" not in json.dumps(logged)
    assert logged[1]["topic"] == "terms" and logged[2]["topic"] == "fraud_and_evasion"
    # the Java client's answer is the Python client's
    ran = java(java_client, JAVA_MAIN, server.url, "answer", "请问信用卡被冻结?")
    from_java = json.loads(ran.stdout)
    assert (from_java["status"], from_java["answer"], from_java["filtered"]) == (
        card["status"],
        card["answer"],
        card["filtered"],
    ), ran.stderr
    assert from_java["confidence"] == pytest.approx(card["confidence"], abs=1e-6)


def _check_export(run: Path, task_type: str, inputs: Path, answers: list[Any], said: str, cwd: Path) -> None:
    """An encoder task's ONNX export (written by `run`) passed parity on the test split and
    answered `predict` (auto picks it); PyTorch gives the same answers. A generative task says
    it is not exported."""
    if task_type in GENERATES:
        refused = tunesmith("export", str(run), "--format", "onnx", cwd=cwd, check=False)
        assert refused.returncode == 2 and "generates text token by token" in refused.stderr, refused.stderr
        assert "backend" not in said  # auto: PyTorch, silently (nothing else could answer)
        return
    parity = json.loads((run / "export" / "onnx" / "parity.json").read_text())
    assert parity["passed"] and parity["agreement"] == 1.0 and parity["max_abs_diff"] <= 1e-4, parity
    # proven against the model as it answers itself: PyTorch, or each learner natively
    learners = (run / "model" / "learners.json").is_file() and json.loads(
        (run / "model" / "learners.json").read_text()
    )["members"] != [{"learner": "transformer", "weight": 1.0, "temperature": 1.0}]
    assert parity["reference"] == ("native" if learners else "torch"), parity["reference"]
    assert parity["metrics"]["onnx"] == parity["metrics"][parity["reference"]]
    assert "backend: onnx" in said, said
    printed = tunesmith("predict", str(run), "--file", str(inputs), "--backend", "torch", cwd=cwd).stdout
    eager = [json.loads(line) for line in printed.splitlines() if line.strip()]
    assert _close(eager, answers), (eager, answers)
    if task_type in PLAIN_TOKENS:  # a slim install (no PyTorch, no transformers) answers alike
        slim = slim_environment(cwd / "slim")
        printed = tunesmith("predict", str(run), "--file", str(inputs), cwd=cwd, env=slim).stdout
        assert [json.loads(line) for line in printed.splitlines() if line.strip()] == answers


def _close(a: Any, b: Any) -> bool:
    """Equal answers, numbers within 1e-4 (what parity allows the outputs)."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, int | float) and isinstance(b, int | float) and abs(a - b) <= 1e-4
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return bool(a == b)


def _rounded(value: Any) -> Any:
    """Answers compared to 5 decimals: the server batches differently, so floats differ in the last bits."""
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def test_an_imported_marian_folder_trains_evaluates_serves_and_streams(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The route for a real translation model that a user copies from a connected machine (opus-mt,
    NLLB, mT5: no registry here ships one): `tunesmith models import FOLDER --name N`, then
    `model.name: N`. A tiny randomly initialised Marian built on the fly stands in for
    opus-mt-en-zh; the imports go to a cache of this test's own."""
    monkeypatch.setenv("TUNESMITH_CACHE", str(tmp_path / "cache"))
    records = translation_rows(300)
    write_jsonl(tmp_path / "pairs.jsonl", records)
    folder = build_tiny_marian(
        tmp_path / "downloaded" / "opus-mt-en-zh", [r["en"] + " " + r["zh"] for r in records]
    )
    imported = tunesmith("models", "import", str(folder), "--name", "opus-mt-tiny", cwd=tmp_path)
    assert "model.name: opus-mt-tiny" in imported.stderr, imported.stderr
    assert "every file matches" in tunesmith("models", "verify", "opus-mt-tiny", cwd=tmp_path).stderr
    recipe = {
        "name": "marian",
        "data": {"train": "pairs.jsonl", "text_field": "en", "label_field": "zh"},
        "task": {"type": "seq2seq", "max_new_tokens": 12},
        "prepare": {"dedup": {"enabled": False}},
        "model": {"name": "opus-mt-tiny", "freeze_word_embeddings": False, "max_length": 16},
        # 10 epochs left the tiny model on a knife edge (the three 4-word phrases shared one answer,
        # and the thread count decided which 2-word phrase came out right); at 30 it knows all 8.
        "training": {"epochs": 30, "batch_size": 16, "learning_rate": 0.01},
        "evaluation": {"baseline_gate": False},
        "serve": {"long_inputs": "refuse"},
    }
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    tunesmith("run", "recipe.yaml", "--output", "runs/marian", cwd=tmp_path)
    run = tmp_path / "runs" / "marian"
    test = json.loads((run / "metrics.json").read_text())["test"]
    assert test["bleu_tokenizer"] == "zh" and test["chrf"] > 50, test
    # an encoder-decoder answers as it is before fine-tuning: no training pairs shown to it
    assert test["untrained"]["answer"] == "opus-mt-tiny before fine-tuning", test["untrained"]
    config = json.loads((run / "model" / "config.json").read_text())
    assert config["model_type"] == "marian" and config["is_encoder_decoder"]
    answer = json.loads(tunesmith("predict", str(run), "thank you", cwd=tmp_path).stdout)
    assert answer == {"text": "谢谢"}
    with Server(run) as server:
        with connect(f"ws://127.0.0.1:{server.port}/v1/ws") as socket:
            socket.send(json.dumps({"id": "m", "text": "thank you", "stream": True}))
            messages = []
            while not messages or not messages[-1].get("done"):
                messages.append(json.loads(socket.recv(timeout=60)))
        streamed = "".join(m["token"] for m in messages if "token" in m)
        assert tidy_generated(streamed) == messages[-1]["text"] == "谢谢", messages
        with Client(server.url) as client:  # SSE through the OpenAI-compatible route
            assert tidy_generated("".join(client.stream("thank you"))) == "谢谢"
        too_long = httpx.post(f"{server.url}/v1/predict", json={"text": "thank you " * 20}, timeout=60)
        assert too_long.status_code == 422 and "at most 16" in too_long.text, too_long.text

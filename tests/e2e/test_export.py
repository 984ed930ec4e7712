"""Export: ONNX (fp32, int8) and TorchScript written into the run, proven on its test split,
bundled, refused when changed, and used by every command through --backend."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_helpers import Server, tunesmith

from tunesmith.client import Client

TEXT = "如何重置密码?"


def _answers(run: Path, backend: str, inputs: Path) -> tuple[list[dict[str, Any]], str]:
    done = tunesmith("predict", str(run), "--file", str(inputs), "--backend", backend, cwd=run.parent)
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()], done.stderr


def _close(a: Any, b: Any, tolerance: float) -> bool:
    if isinstance(a, float):
        return abs(a - b) <= tolerance
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tolerance) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y, tolerance) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.fixture(scope="module")
def exported(trained: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A copy of the shared run (init's recipe exported ONNX). Its exports are deleted and the run
    evaluated again (a bundle without exports), answered, then exported as ONNX int8 and
    TorchScript through the CLI."""
    assert json.loads((trained / "export" / "onnx" / "parity.json").read_text())["passed"]  # init's default
    run = tmp_path_factory.mktemp("export") / "faq"
    shutil.copytree(trained, run)
    shutil.rmtree(run / "export")
    tunesmith("evaluate", str(run), cwd=run.parent)
    inputs = run.parent / "inputs.jsonl"
    texts = [TEXT, "退款什么时候到账", "my card was declined", "包裹还没有收到"]
    inputs.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts), "utf-8")
    before, said_before = _answers(run, "auto", inputs)
    missing = tunesmith("predict", str(run), TEXT, "--backend", "onnx", cwd=run.parent, check=False)
    int8 = tunesmith("export", str(run), "--format", "onnx", "--quantize", "int8", cwd=run.parent)
    script = tunesmith("export", str(run), "--format", "torchscript", cwd=run.parent)
    student = tunesmith("export", str(run), "--format", "student", cwd=run.parent)
    return {
        "run": run,
        "inputs": inputs,
        "before": before,
        "said_before": said_before,
        "missing": missing,
        "said": int8.stderr + script.stderr + student.stderr,
    }


def test_exports_are_proven_bundled_reported_and_answer_like_pytorch(exported: dict[str, Any]) -> None:
    run, inputs = exported["run"], exported["inputs"]
    assert "backend: torch (no proven export" in exported["said_before"]  # auto falls back
    said = exported["said"]
    assert "onnx-int8:" in said and "test answers identical" in said and "one input:" in said, said
    int8 = json.loads((run / "export" / "onnx-int8" / "parity.json").read_text())
    assert int8["passed"] and 0.0 <= int8["agreement"] <= 1.0 and int8["records"] > 0
    assert int8["int8"]["validation_agreement"] >= int8["int8"]["min_agreement"] == 0.98
    assert int8["int8"]["quality"]["holds"] and int8["int8"]["metric_margin"] == 0.5
    student = json.loads((run / "export" / "student" / "parity.json").read_text())  # 1 of 2 layers
    assert student["student"]["layers_kept"] == [1] and student["quality"]["holds"], student["quality"]
    assert student["quality"]["agreement"] >= 0.98 and "student: " in said
    served = json.loads((run / "export" / "serving.json").read_text())  # judged and timed: one serves
    assert set(served["candidates"]) == {"onnx-int8", "torchscript", "student"}
    assert served["chosen"] in served["candidates"]
    assert all(set(c["ms_per_text"]) == {"1", "8", "32"} for c in served["candidates"].values())
    assert int8["int8"]["nodes_quantized"] > 0 and int8["int8"]["per_channel"] is True
    assert set(int8["metrics"]) == {"torch", "onnx-int8"} and "accuracy" in int8["metrics"]["onnx-int8"]
    assert set(int8["speed"]) == {"machine", "torch", "onnx-int8"}
    script = json.loads((run / "export" / "torchscript" / "parity.json").read_text())
    assert script["passed"] and script["agreement"] == 1.0 and script["max_abs_diff"] <= 1e-4
    manifest = json.loads((run / "manifest.json").read_text())
    assert {"export/onnx-int8/model.onnx", "export/torchscript/model.pt", "export/student/model.onnx"} <= set(
        manifest["files"]
    )
    assert "Exports (proven on the test split)" in (run / "report.html").read_text(encoding="utf-8")
    eager, _ = _answers(run, "torch", inputs)
    assert eager == exported["before"]  # the export changed nothing of the trained model
    traced, _ = _answers(run, "torchscript", inputs)
    assert _close(traced, eager, 1e-4)
    quantized, _ = _answers(run, "onnx-int8", inputs)
    assert [a["label"] for a in quantized] == [a["label"] for a in eager]
    distilled, _ = _answers(run, "student", inputs)
    assert len(distilled) == len(eager) and all(a["label"] in a["probabilities"] for a in distilled)
    auto, said_auto = _answers(run, "auto", inputs)
    assert f"backend: {served['chosen']} (" in said_auto, said_auto
    evaluated = tunesmith("evaluate", str(run), "--backend", "onnx-int8", cwd=run.parent)
    assert "metrics (onnx-int8 export)" in evaluated.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["backend"] == "onnx-int8"
    with Server(run) as server, Client(server.url) as client:  # verified bundle, auto backend
        served = client.predict(TEXT)
    assert served["label"] == auto[0]["label"]


def test_an_int8_that_holds_and_is_faster_answers_by_default(
    tiny_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A model wide enough for int8 to pay (384: quantizing costs less than the products it speeds
    up), exported as ONNX and int8 by `run`: both hold by the quality rule, both are timed at the
    server's batch sizes, and int8 - measured faster - serves, as /ready and the log say."""
    from conftest import fast_overrides
    from helpers import INTENTS, build_tiny_model, faq_records, write_jsonl

    work = tmp_path_factory.mktemp("wide")
    records = faq_records(240)
    write_jsonl(work / "faq.jsonl", records)
    wide = build_tiny_model(
        work / "wide", [r["question"] for r in records] + [p for v in INTENTS.values() for p in v], 384
    )
    tunesmith("init", "faq.jsonl", cwd=work)
    overrides = [
        o if not o.startswith("model.name=") else f"model.name={wide}" for o in fast_overrides(tiny_model)
    ]
    overrides += ["training.learning_rate=0.001", "export.formats=[onnx, onnx-int8]"]
    ran = tunesmith(
        "run", "recipe.yaml", *(a for o in overrides for a in ("--set", o)), "--output", "runs/wide", cwd=work
    )
    run = work / "runs" / "wide"
    served = json.loads((run / "export" / "serving.json").read_text())
    int8 = served["candidates"]["onnx-int8"]
    assert int8["holds"] and int8["quality"]["agreement"] >= 0.98 and int8["quality"]["difference_low"] > -0.5
    assert served["candidates"]["onnx"]["holds"] and served["chosen"] == "onnx-int8", served
    assert "serving: onnx-int8" in ran.stdout + ran.stderr
    card = (run / "model" / "README.md").read_text(encoding="utf-8")
    assert "onnx-int8 serves:" in card and "ms a text, batch 32" in card
    with Server(run) as server:
        ready = httpx.get(f"{server.url}/ready").json()
        said = server.output()
    assert ready["backend"] == "onnx-int8", ready
    assert "backend: onnx-int8 (" in " ".join(said.split()) and "ms a text at batch" in said, said


def test_a_changed_export_and_bad_export_requests_get_one_line_errors(
    exported: dict[str, Any], tmp_path: Path
) -> None:
    run = tmp_path / "faq"
    shutil.copytree(exported["run"], run)
    missing = exported["missing"]
    assert missing.returncode == 2
    assert "no onnx export; make it with `tunesmith export" in missing.stderr, missing.stderr
    for args, expected in (
        (("--format", "tensorflow"), "--format 'tensorflow'"),
        (("--format", "torchscript", "--quantize", "int8"), "TorchScript exports stay fp32"),
        (("--format", "onnx", "--quantize", "int4"), "only int8"),
    ):
        refused = tunesmith("export", str(run), *args, cwd=tmp_path, check=False)
        assert refused.returncode == 2 and expected in refused.stderr, refused.stderr
    with (run / "export" / "onnx-int8" / "model.onnx").open("ab") as handle:
        handle.write(b"\0")
    tampered = tunesmith("predict", str(run), TEXT, "--backend", "onnx-int8", cwd=tmp_path, check=False)
    assert tampered.returncode == 2 and "export/onnx-int8/model.onnx" in tampered.stderr
    assert "checksum differs" in tampered.stderr and "Traceback" not in tampered.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = tunesmith("export", str(empty), cwd=tmp_path, check=False)
    assert nothing.returncode == 2 and "not a finished run" in nothing.stderr


def test_distill_makes_a_smaller_run_that_answers_as_the_teacher(trained: Path, tmp_path: Path) -> None:
    """`tunesmith distill`: a student with fewer layers, taught by the teacher's scores over the
    training texts and unlabelled texts (one of them a test text, which must stay out), is a run
    like any other - evaluated, exported, bundled, served - and proves its agreement on test."""
    from helpers import faq_records, write_jsonl

    from tunesmith.prepare.stage import read_split

    test_text = read_split(trained, "test")[0]["text"]
    unlabelled = [{"question": r["question"]} for r in faq_records(300)[240:]] + [{"question": test_text}]
    write_jsonl(tmp_path / "more.jsonl", unlabelled)
    said = tunesmith(
        "distill",
        str(trained),
        "--output",
        "small",
        "--layers",
        "1",
        "--unlabelled",
        "more.jsonl",
        cwd=tmp_path,
    )
    student = tmp_path / "small"
    proof = json.loads((student / "distill.json").read_text())
    teacher_layers = json.loads((trained / "model" / "config.json").read_text())["num_hidden_layers"]
    assert (
        json.loads((student / "model" / "config.json").read_text())["num_hidden_layers"] == 1 < teacher_layers
    )
    assert proof["layers_kept"] == [teacher_layers - 1] and 0 < proof["unlabelled_texts"] < len(unlabelled)
    assert proof["test_agreement"] >= 0.9 and set(proof["metrics"]) == {"teacher", "student"}
    assert proof["metrics"]["student"]["accuracy"] >= proof["metrics"]["teacher"]["accuracy"] - 0.1
    assert "test answers as the teacher's" in said.stdout + said.stderr
    assert (student / "manifest.json").is_file() and (student / "export" / "onnx" / "parity.json").is_file()
    answered = json.loads(tunesmith("predict", "small", TEXT, cwd=tmp_path).stdout)
    assert answered["label"] in json.loads((trained / "model" / "labels.json").read_text())

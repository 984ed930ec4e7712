"""Release gates: a run that misses one is complete, marked not releasable, and exits with 3; a
run that passes them reports slices, robustness and expectations in one offline page."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from cli_helpers import tunesmith
from conftest import fast_overrides
from helpers import faq_records, write_faq_recipe, write_jsonl

from tunesmith import recipe as recipe_io
from tunesmith.errors import RecipeError
from tunesmith.evaluate.gates import check_gates, parse_condition, summary


def test_gate_conditions_lookups_and_missing_metrics() -> None:
    assert parse_condition(">= 0.85") == (">=", 0.85) and parse_condition("<1e-2") == ("<", 0.01)
    with pytest.raises(ValueError, match="not a gate condition"):
        parse_condition("at least 0.85")
    metrics = {
        "test": {"macro_f1": 0.8, "per_class": {"fraud": {"recall": 0.9}}},
        "validation": {"accuracy": 1},
        "export": {"onnx-int8": {"agreement": 0.99, "accuracy": 0.79}},
    }
    results = check_gates(
        {
            "macro_f1": ">= 0.85",
            "per_class.fraud.recall": ">= 0.9",
            "validation.accuracy": "== 1",
            "robustness.flip_rate": "<= 0.1",
            "export.onnx-int8.agreement": ">= 0.995",
            "export.onnx-int8.accuracy": ">= 0.78",
        },
        metrics,
    )
    assert [r.passed for r in results] == [False, True, True, False, False, True]
    assert results[3].value is None  # not reported: the gate fails rather than passing silently
    assert summary(results)["releasable"] is False
    with pytest.raises(RecipeError, match="gate 'macro_f1'"):
        recipe_io.validate({"data": {"train": "x"}, "gates": {"macro_f1": "high"}})


def test_a_run_that_misses_a_gate_exits_3_and_a_passing_run_reports_everything(
    tmp_path: Path, tiny_model: Path
) -> None:
    recipe = write_faq_recipe(
        tmp_path, tiny_model, "{epochs: 4, batch_size: 16, learning_rate: 0.01}", rows=160
    )
    with recipe.open("a", encoding="utf-8") as handle:
        handle.write('gates: {accuracy: ">= 0.0", macro_f1: ">= 1.01"}\n')
    result = tunesmith("run", str(recipe), "-o", "gated", cwd=tmp_path, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 3, output
    # the recipe's two gates, and the default one: clearly better than the largest class
    assert "release gates failed: 1 of 3" in output and "macro_f1" in output and ">= 1.01" in output
    assert "trivial baseline (the largest class" in output and "beats it clearly" in output
    manifest = json.loads((tmp_path / "gated" / "manifest.json").read_text())
    assert manifest["releasable"] is False
    gates = manifest["gates"]
    assert gates["macro_f1"]["passed"] is False and gates["accuracy"]["passed"] is True
    assert gates["trivial_baseline.gain_low"]["passed"] is True
    again = tunesmith("evaluate", "gated", cwd=tmp_path, check=False)
    assert again.returncode == 3
    # With slices by channel, a gate on the largest slice gap; it passes.
    records = [{**r, "channel": ["app", "phone", "web"][i % 3]} for i, r in enumerate(faq_records(160))]
    write_jsonl(tmp_path / "faq.jsonl", records)
    passing = tunesmith(
        "run",
        str(recipe),
        "-o",
        "ok",
        "--set",
        "gates={accuracy: '>= 0.0', slice_gap.accuracy: '<= 1.0', robustness.flip_rate: '<= 1.0'}",
        "--set",
        "evaluation.slices=[channel]",
        "--set",
        "evaluation.robustness=[typos, punctuation, width, names_places, truncation]",
        "--set",
        "evaluation.min_slice=2",
        "--set",
        "evaluation.expectations=[{name: refund_cue, add: 我要退钱, direction: up, label: refund},"
        " {name: polite, add: 谢谢, at: start, direction: same}]",
        cwd=tmp_path,
    )
    assert "all 4 passed" in passing.stdout + passing.stderr
    assert json.loads((tmp_path / "ok" / "manifest.json").read_text())["releasable"] is True
    test = json.loads((tmp_path / "ok" / "metrics.json").read_text())["test"]
    per_slice = test["slices"]["channel"]["per_slice"]
    assert set(per_slice) == {"app", "phone", "web"}
    assert sum(v["count"] for v in per_slice.values()) == test["count"]
    assert 0 <= test["slice_gap"]["accuracy"] <= 1 and (tmp_path / "ok" / "slices_test.png").is_file()
    suites = test["robustness"]["suites"]
    assert set(suites) == {"clean", "typos", "punctuation", "width", "names_places", "truncation"}
    assert suites["names_places"]["changed_texts"] == 0  # the FAQ texts name no one and no place
    assert suites["truncation"]["changed_texts"] == test["count"]  # every text was cut
    assert test["robustness"]["flip_rate"] == max(v["flip_rate"] for k, v in suites.items() if k != "clean")
    assert (tmp_path / "ok" / "robustness_test.png").is_file()
    assert test["errors"]["mistakes"] == round(test["count"] * (1 - test["accuracy"]))
    state = json.loads((tmp_path / "ok" / "model" / "task_state.json").read_text())
    assert 0.05 < state["temperature"] < 20  # fitted on validation (task.calibration: temperature)
    checks = test["expectations"]["checks"]
    assert set(checks) == {"refund_cue", "polite"} and checks["polite"]["tested"] == test["count"]
    assert test["expectations"]["failure_rate"] == max(c["failure_rate"] for c in checks.values())
    _check_report(tmp_path / "ok", tmp_path / "report.png")


def test_a_model_that_learned_nothing_fails_the_default_gate(tmp_path: Path, tiny_model: Path) -> None:
    """Labels shuffled away from the texts: nothing to learn, so the model cannot clearly beat
    always answering the largest class, and the run is not releasable."""
    records = faq_records(160)
    labels = [r["intent"] for r in records]
    random.Random(0).shuffle(labels)
    write_jsonl(
        tmp_path / "faq.jsonl", [{**r, "intent": label} for r, label in zip(records, labels, strict=True)]
    )
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "data: {train: faq.jsonl, text_field: question, label_field: intent}\n", encoding="utf-8"
    )
    sets = [arg for item in fast_overrides(tiny_model) for arg in ("--set", item)]
    result = tunesmith(
        "run", str(recipe), *sets, "--set", "training.epochs=1", "-o", "noise", cwd=tmp_path, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 3, output
    assert "does NOT clearly beat it" in output and "trivial_baseline.gain_low > 0" in output
    test = json.loads((tmp_path / "noise" / "metrics.json").read_text())["test"]
    assert test["trivial_baseline"]["metric"] == "macro_f1" and test["trivial_baseline"]["gain_low"] <= 0


def _check_report(run: Path, shot: Path) -> None:
    """The run report is one offline page with every section, and renders in headless Chromium."""
    import re
    import shutil
    import subprocess

    page = (run / "report.html").read_text(encoding="utf-8")
    for section in (
        "Release gates",
        "Data",
        "Training",
        "Metrics (95% bootstrap intervals)",
        "Against a trivial baseline",
        "Per class (test)",
        "Slices by channel (test)",
        "Robustness",
        "Expectations (test, CheckList style)",
        "Errors",
    ):
        assert f"<h2>{section}" in page, section
    assert page.count("data:image/png;base64,") >= 5  # plots inline
    assert not re.search(r"""(src|href)=["']https?:""", page) and "<script" not in page  # nothing fetched
    markdown = (run / "report.md").read_text(encoding="utf-8")
    assert markdown.startswith("# tunesmith run report") and "| split | n | accuracy" in markdown
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Chromium is not installed here (Debian: apt-get install chromium)")
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",  # containers often give /dev/shm only 64 MB
            f"--screenshot={shot}",
            "--window-size=1200,2400",
            (run / "report.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1200, 2400)
        colours = image.convert("L").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50  # text and plots drawn, not a blank page

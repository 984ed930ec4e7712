"""`tunesmith init` on small files shaped like each real case: the task, the fields, the roles."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml
from cli_helpers import tunesmith
from helpers import write_jsonl

from tunesmith.errors import DataError
from tunesmith.init.stage import Wishes, analyse, write_recipe
from tunesmith.recipe import validate

QUESTIONS = [
    "花呗怎么还款",
    "借呗额度怎么提升",
    "如何关闭花呗",
    "余额宝收益怎么算",
    "信用卡怎么绑定",
    "账户被冻结怎么办",
]
SYMPTOMS = ["发热", "咳嗽", "干咳", "腹泻", "呕吐", "厌食", "鼻流涕", "喷嚏", "咳痰", "低热"]
DISEASES = {"上呼吸道感染": [0, 6, 7, 9], "小儿腹泻": [3, 4, 5], "小儿支气管炎": [1, 2, 8]}


def _recipe(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_headerless_pairs_become_matching_with_named_columns(tmp_path: Path) -> None:
    rng = random.Random(0)
    lines = []
    for i in range(120):
        a, b = rng.sample(QUESTIONS, 2)
        same = i % 4 == 0
        lines.append(f"{i + 1}\t{a}，第{i}次\t{a if same else b}吗？{i}\t{int(same)}")
    (tmp_path / "pairs.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, plan = write_recipe(tmp_path / "pairs.tsv", tmp_path / "recipe.yaml")
    recipe = _recipe(out)
    assert plan.task.value == "matching"
    assert recipe["data"]["columns"] == ["id", "text_1", "text_2", "label"]
    assert (recipe["data"]["text_field"], recipe["data"]["pair_field"]) == ("text_1", "text_2")
    assert recipe["data"]["label_field"] == "label" and recipe["model"]["name"] == "multilingual-e5-small"
    assert "id" in plan.roles and plan.roles["id"].startswith("an id")


def test_headerless_pairs_are_read_by_prepare_with_those_names(tmp_path: Path, tiny_model: Path) -> None:
    lines = [f"{i}\t问题{i}怎么办\t回答{i}在这里\t{i % 2}" for i in range(80)]
    (tmp_path / "pairs.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    tunesmith("init", "pairs.tsv", cwd=tmp_path)
    tunesmith("prepare", "recipe.yaml", "--set", f"model.name={tiny_model}", "-o", "run", cwd=tmp_path)
    report = json.loads((tmp_path / "run" / "data" / "report.json").read_text())
    assert report["rows_read"] == 80 and report["rows_rejected"] == 0  # the first row is a record
    first = json.loads(
        (tmp_path / "run" / "data" / "train.jsonl").read_text(encoding="utf-8").splitlines()[0]
    )
    assert first["text"].startswith("问题") and first["text_pair"].startswith("回答")


def _visits(n: int) -> list[dict]:
    rng = random.Random(1)
    records = []
    for i in range(n):
        disease = list(DISEASES)[i % 3]
        found = [SYMPTOMS[j] for j in rng.sample(DISEASES[disease], 2)]
        other = rng.choice([s for s in SYMPTOMS if s not in found])
        records.append(
            {
                "patient_id": f"MZ-train-{i:04d}",
                "symptoms": found,
                "implicit_symptoms": {other: rng.random() < 0.5, found[0]: True},
                "explicit_symptoms": dict.fromkeys(found, True),
                "diagnosis": disease,
            }
        )
    return records


def test_nested_records_get_a_template_over_lists_and_symptom_maps(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "visits.jsonl", _visits(150))
    out, plan = write_recipe(data, tmp_path / "recipe.yaml")
    recipe = validate(_recipe(out))
    # structured records are a table: each listed item and each key of the map a column for the
    # trees and the linear model, the record as a sentence for the transformer beside them
    assert recipe.task.type == "tabular" and recipe.data.label_field == "diagnosis"
    assert recipe.task.tabular_model == "auto" and "one column per item" in plan.roles["symptoms"]
    assert "one column per key" in plan.roles["implicit_symptoms"]
    assert recipe.training.time_limit == 1200  # about 20 minutes on CPU cores, and what it buys
    assert "planned steps take" in out.read_text(encoding="utf-8")
    template = recipe.data.text_template or ""
    assert "{symptoms}" in template and "implicit_symptoms" in template
    assert "patient_id" not in template and "explicit_symptoms" not in template  # an id; a repeat
    assert plan.roles["explicit_symptoms"] == "not an input: repeats symptoms"
    assert plan.language == "zh" and recipe.model.name == "multilingual-e5-small"


def test_a_column_that_gives_the_label_away_is_never_an_input(tmp_path: Path) -> None:
    plans = {"Flu": "rest; fluids", "Acne": "wash twice; retinoid", "Gout": "no red meat; colchicine"}
    rng = random.Random(2)
    pool = ["fever", "itching", "rash", "joint pain", "cough", "fatigue", "swelling", "pimples"]
    records = [
        {
            "patient_id": f"P{i:04d}",
            "symptoms": rng.sample(pool, 3),
            "diagnosis": (d := list(plans)[i % 3]),
            "treatment_plan": plans[d],
        }
        for i in range(90)
    ]
    out, plan = write_recipe(write_jsonl(tmp_path / "r.jsonl", records), tmp_path / "recipe.yaml")
    recipe = _recipe(out)
    assert plan.leaks == ["treatment_plan"]
    assert "treatment_plan" not in recipe["data"]["text_template"]
    assert "gives the label away" in out.read_text(encoding="utf-8")
    assert plan.label is not None and "treatment_plan" not in str(plan.label.runner_up)


def test_two_language_columns_are_a_translation(tmp_path: Path) -> None:
    words = ["I like tea", "Where is the station", "Thank you very much", "The weather is nice today"]
    chinese = ["我喜欢茶", "车站在哪里", "非常感谢你", "今天天气很好"]
    lines = [f"{words[i % 4]} ({i}).\t{chinese[i % 4]}（{i}）。" for i in range(80)]
    (tmp_path / "cmn.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, plan = write_recipe(tmp_path / "cmn.txt", tmp_path / "recipe.yaml")
    recipe = _recipe(out)
    assert plan.task.value == "seq2seq" and recipe["data"]["columns"] == ["en", "zh"]
    assert (recipe["data"]["text_field"], recipe["data"]["label_field"]) == ("en", "zh")
    assert recipe["task"]["max_target_length"] >= 16
    # the packaged multilingual decoder, reading the source inside a prompt named for both languages
    assert recipe["model"]["name"] == "gemma-3-270m"
    assert recipe["task"]["prompt"] == "English: {text}\nChinese:"
    assert validate(recipe).task.prompt == "English: {text}\nChinese:"  # the YAML round-trips the line break
    # the other direction: the text to produce named as the label
    back = analyse(tmp_path / "cmn.txt", Wishes(label="en"), show=False)
    assert (back.task.value, back.text_field, back.label_field) == ("seq2seq", "zh", "en")
    assert back.prompt == "Chinese: {text}\nEnglish:"


def test_a_numeric_table_is_tabular_without_ids_and_with_policies(tmp_path: Path) -> None:
    rng = random.Random(3)
    rows = [",when,cc_num,first,type,amount,balance_before,balance_after,unix_time,trans_num,is_fraud"]
    for i in range(200):
        fraud = int(i % 10 == 0)
        amount = round(rng.uniform(5, 900), 2)
        before = round(rng.uniform(0, 5000), 2)
        rows.append(
            f"{i},1/{i % 28 + 1}/19 {i % 24}:00,{4_000_000_000_000_000 + i * 7919},Ann,"
            f"{rng.choice(['PAYMENT', 'TRANSFER', 'CASH_OUT'])},{amount},{before},"
            f"{0.0 if fraud else before},{1325376018 + i * 60},{rng.getrandbits(64):016x},{fraud}"
        )
    (tmp_path / "tx.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    out, plan = write_recipe(tmp_path / "tx.csv", tmp_path / "recipe.yaml")
    recipe = validate(_recipe(out))
    assert recipe.task.type == "tabular" and recipe.data.label_field == "is_fraud"
    template = recipe.data.text_template or ""
    for used in ("{type}", "{amount}", "{balance_before}", "{balance_after}", "{when}"):
        assert used in template
    for unused in ("trans_num", "cc_num", "first", "unix_time"):
        assert unused not in template
    assert recipe.prepare.pii.columns == {"cc_num": "mask", "first": "mask"}
    assert plan.time_field == "unix_time" and plan.roles["trans_num"].startswith("an id")
    # numbers, categories and a date, no free text: the trees path alone
    assert recipe.task.tabular_model == "trees" and "trees and a linear model" in plan.task.reason
    assert recipe.training.time_limit is None  # the column learners take seconds
    assert recipe.export.student == "off"  # no transformer served alone to distil


def test_word_tag_lines_are_ner_with_names_left_unmasked(tmp_path: Path) -> None:
    lines = [f"张伟{i}/nr 在/o 北京/ns 的/o 清华大学/nt 工作/o" for i in range(60)]
    (tmp_path / "ner.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, plan = write_recipe(tmp_path / "ner.txt", tmp_path / "recipe.yaml")
    recipe = validate(_recipe(out))
    assert recipe.task.type == "token_classification" and recipe.task.ner_format == "word_tag"
    assert (
        recipe.data.format == "lines" and recipe.data.text_field == "text" and recipe.data.label_field is None
    )
    assert "PERSON" not in recipe.prepare.pii.types and "ADDRESS" not in recipe.prepare.pii.types
    assert plan.labels == ["nr", "ns", "nt"]


def test_a_folder_with_one_file_per_label_is_classification_by_file(tmp_path: Path) -> None:
    folder = tmp_path / "reviews"
    folder.mkdir()
    (folder / "neg.txt").write_text(
        "\n".join(f"质量太差了，第{i}次买到坏的" for i in range(60)), encoding="utf-8"
    )
    (folder / "pos.txt").write_text(
        "\n".join(f"非常满意，第{i}次回购了" for i in range(60)), encoding="utf-8"
    )
    out, plan = write_recipe(folder, tmp_path / "recipe.yaml")
    recipe = validate(_recipe(out))
    assert recipe.data.label_field == "file" and recipe.data.text_field == "text"
    assert plan.labels == ["neg", "pos"] and recipe.data.format == "lines"
    # 120 short texts: a distilled student fits the time budget, and serves only where it holds
    assert recipe.export.student == "auto" and "student: auto" in out.read_text(encoding="utf-8")
    with pytest.raises(DataError, match="one file per label in a folder"):
        analyse(folder / "neg.txt")


def _clauses(n: int) -> list[dict]:
    records = []
    for i in range(n):
        doc = f"Service{i // 20}"
        unfair = ["ltd"] if i % 7 == 0 else ["ter", "ch"] if i % 11 == 0 else []
        level = 1 if i % 14 == 0 else 2  # a level-1 tag is unfair but low risk
        tags = [f"{c}{level}" for c in unfair]
        records.append(
            {
                "doc": doc,
                "clause": f"Clause {i} of {doc}: the provider may change these terms at any time {i % 5}.",
                "tags": tags,
                "risk_level": "中" if unfair and level == 2 else "低",
                "unfair_categories": unfair,
            }
        )
    return records


def test_documents_split_by_group_raw_tags_leak_and_label_override(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "clauses.jsonl", _clauses(200))
    _, plan = write_recipe(data, tmp_path / "recipe.yaml")
    assert plan.task.value == "classification" and plan.label_field == "risk_level"
    assert (plan.split_method, plan.group_field) == ("group", "doc")
    assert "tags" in plan.leaks and plan.label and "unfair_categories" in str(plan.label.runner_up)
    out, plan = write_recipe(data, tmp_path / "multi.yaml", Wishes(label="unfair_categories"))
    recipe = validate(_recipe(out))
    assert recipe.task.type == "multilabel" and recipe.data.text_field == "clause"
    assert recipe.split.group_field == "doc" and plan.labels == ["ch", "ltd", "ter"]


def test_questions_with_answers_in_their_context_are_extractive_qa(tmp_path: Path) -> None:
    records = []
    for i in range(60):
        room = f"room {100 + 7 * i}"
        context = f"Report {i}. The meeting number {i} was held in {room}, and it lasted two hours."
        records.append({"question": f"Where was meeting {i} held?", "context": context, "answer": room})
    _, plan = write_recipe(write_jsonl(tmp_path / "qa.jsonl", records), tmp_path / "recipe.yaml")
    assert plan.task.value == "extractive_qa"
    assert (plan.text_field, plan.pair_field, plan.label_field) == ("question", "context", "answer")


def test_instruction_and_response_is_causal_lm(tmp_path: Path) -> None:
    records = [
        {
            "instruction": f"How do I reset my password on device {i}?",
            "response": f"Open settings {i} and tap reset.",
        }
        for i in range(60)
    ]
    out, _plan = write_recipe(write_jsonl(tmp_path / "sft.jsonl", records), tmp_path / "recipe.yaml")
    recipe = validate(_recipe(out))
    assert recipe.task.type == "causal_lm" and recipe.model.name == "smollm2-135m-instruct"
    assert (recipe.data.text_field, recipe.data.label_field) == ("instruction", "response")


def test_a_numeric_target_with_many_values_is_regression(tmp_path: Path) -> None:
    records = [
        {"review": f"The product works {'well' if i % 2 else 'badly'} after {i} days", "score": i * 0.37}
        for i in range(80)
    ]
    _, plan = write_recipe(write_jsonl(tmp_path / "r.jsonl", records), tmp_path / "recipe.yaml")
    assert plan.task.value == "regression" and plan.label_field == "score" and plan.text_field == "review"


def test_explain_writes_nothing_and_wishes_are_checked(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "visits.jsonl", _visits(90))
    result = tunesmith("init", "visits.jsonl", "--explain", cwd=tmp_path)
    assert "task tabular" in result.stdout and "patient_id" in result.stdout
    assert "runner-up" in result.stdout
    assert not (tmp_path / "recipe.yaml").exists()
    bad = tunesmith("init", "visits.jsonl", "--label", "nothing", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "--label 'nothing': no such field" in bad.stderr
    idlabel = tunesmith("init", "visits.jsonl", "--label", "patient_id", cwd=tmp_path, check=False)
    assert idlabel.returncode == 2 and "cannot be a label" in idlabel.stderr


def test_too_few_records_are_refused_with_the_reason(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path / "kb.jsonl", [{"Id": f"k{i}", "Tag": "ch2", "Explanation": f"since {i}"} for i in range(8)]
    )
    with pytest.raises(DataError, match="only 8 records"):
        analyse(tmp_path / "kb.jsonl")

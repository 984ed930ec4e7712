"""De-identification inside prepare, its audit, and `tunesmith scan`."""

import json
from pathlib import Path

import pytest
from cli_helpers import tunesmith
from helpers import faq_records, write_jsonl

from tunesmith import recipe as recipe_io
from tunesmith.data.pii.recognizers import PII_TYPES
from tunesmith.errors import RecipeError
from tunesmith.prepare.stage import prepare, read_split

PHONE = "13912345678"
ID_CARD = "11010519491231002X"


def _data(tmp_path: Path) -> Path:
    records = faq_records(40)
    records[0]["question"] = f"我的手机{PHONE}收不到验证码"
    records[1]["question"] = f"身份证{ID_CARD}无法认证"
    records[2] = {"question": f"退款请打{PHONE}", "intent": None}  # rejected: no label
    return write_jsonl(tmp_path / "faq.jsonl", records)


def _recipe(tmp_path: Path, *overrides: str) -> recipe_io.Recipe:
    path = tmp_path / "r.yaml"
    path.write_text("data: {train: faq.jsonl, text_field: question, label_field: intent}\n")
    return recipe_io.load(path, ["prepare.dedup.enabled=false", *overrides])


def _all_text(run: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in (run / "data").glob("*.json*"))


def test_recipe_and_recognizers_name_the_same_types() -> None:
    assert recipe_io.PII_TYPES == PII_TYPES


def test_pii_is_masked_by_default_and_audited(tmp_path: Path) -> None:
    _data(tmp_path)
    prepare(_recipe(tmp_path), tmp_path / "run")
    texts = [r["text"] for s in ("train", "validation", "test") for r in read_split(tmp_path / "run", s)]
    assert any("[PHONE]" in t for t in texts) and any("[ID_CARD]" in t for t in texts)
    everything = _all_text(tmp_path / "run")
    assert PHONE not in everything and ID_CARD not in everything  # rejected.jsonl included
    audit = json.loads((tmp_path / "run" / "data" / "report.json").read_text())["pii"]
    # every record read is counted, the rejected one (no label) included
    assert audit["found_by_type"] == {"PHONE": 2, "ID_CARD": 1}
    assert audit["found_by_field"] == {"question:PHONE": 2, "question:ID_CARD": 1}


def test_pseudonyms_are_keyed_and_stable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _data(tmp_path)
    with pytest.raises(RecipeError, match="TUNESMITH_PII_KEY"):
        prepare(_recipe(tmp_path, "prepare.pii.action=pseudonym"), tmp_path / "run0")
    monkeypatch.setenv("TUNESMITH_PII_KEY", "a-long-test-secret")
    for name in ("run1", "run2"):
        prepare(_recipe(tmp_path, "prepare.pii.action=pseudonym"), tmp_path / name)
    assert _all_text(tmp_path / "run1").count("<PHONE_") == 1
    assert PHONE not in _all_text(tmp_path / "run1")
    assert read_split(tmp_path / "run1", "train") == read_split(tmp_path / "run2", "train")


def test_drop_and_off(tmp_path: Path) -> None:
    _data(tmp_path)
    result = prepare(_recipe(tmp_path, "prepare.pii.action=drop"), tmp_path / "drop")
    assert result.rejected == 3
    assert PHONE not in _all_text(tmp_path / "drop")
    prepare(_recipe(tmp_path, "prepare.pii.enabled=false"), tmp_path / "off")
    assert PHONE in _all_text(tmp_path / "off")


def test_scan_cli_finds_pii_and_canaries(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "clean.txt").write_text("订单 202311291234567890 已发货\n", encoding="utf-8")
    clean = tunesmith("scan", str(folder), cwd=tmp_path, check=False)
    assert clean.returncode == 0 and "no personal data" in clean.stderr
    (folder / "leak.csv").write_text(f"name,phone\n张三,{PHONE}\n", encoding="utf-8")
    (folder / "note.md").write_text("customer code ZX-CANARY-42\n", encoding="utf-8")
    found = tunesmith("scan", str(folder), "--canary", "ZX-CANARY-42", cwd=tmp_path, check=False)
    assert found.returncode == 1
    assert "PHONE 1" in found.stderr and "CANARY 1" in found.stderr
    assert PHONE not in found.stderr  # the report itself shows values partially masked


def test_init_recipe_turns_deidentification_on(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "faq.jsonl", faq_records(80))
    tunesmith("init", "faq.jsonl", cwd=tmp_path)
    recipe = recipe_io.load(tmp_path / "recipe.yaml")
    assert recipe.prepare.pii.enabled and recipe.prepare.pii.action == "mask"
    assert "De-identification is on" in (tmp_path / "recipe.yaml").read_text(encoding="utf-8")


def test_column_policies_on_tabular_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNESMITH_PII_KEY", "a-long-test-secret")
    rows = ["user_id,first,last,dob,city,amount,label"]
    people = [("Jennifer", "Banks"), ("Marcus", "Oduya"), ("Helga", "Stroud")]
    for i in range(60):
        first, last = people[i % 3]
        rows.append(f'u{i % 6},{first},{last},3/19/68,"Springfield, IL",{i}.5,{"yes" if i % 2 else "no"}')
    (tmp_path / "tx.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "r.yaml").write_text(
        "data: {train: tx.csv, text_template: '{first} {last} born {dob} paid {amount} in {city}', "
        "id_field: user_id}\n"
        "split: {method: group, group_field: user_id}\n"
        "prepare:\n  dedup: {enabled: false}\n"
        "  pii:\n    columns: {user_id: pseudonym, first: fake, last: mask, city: generalize, amount: keep}\n"
    )
    prepare(recipe_io.load(tmp_path / "r.yaml"), tmp_path / "run")
    everything = _all_text(tmp_path / "run")
    for first, last in people:
        assert first not in everything and last not in everything
    assert "u1" not in everything and "Springfield" not in everything
    records = [r for s in ("train", "validation", "test") for r in read_split(tmp_path / "run", s)]
    # the template's "born" gives the date its context; the policy columns are not scanned again
    assert all(" [LAST_NAME] born [DATE_OF_BIRTH] paid " in r["text"] for r in records)
    assert "3/19/68" not in everything
    assert all(r["text"].endswith(" in IL") for r in records)
    assert any(" paid 3.5 in " in r["text"] for r in records)  # amount kept as it was
    groups = {r["group"] for r in records}
    assert len(groups) == 6 and all(g.startswith("<USER_ID_") for g in groups)  # joins survive
    by_split = {s: {r["group"] for r in read_split(tmp_path / "run", s)} for s in ("train", "test")}
    assert not by_split["train"] & by_split["test"]
    audit = json.loads((tmp_path / "run" / "data" / "report.json").read_text())["pii"]
    assert audit["columns"]["first:fake"] == 60


def test_init_names_columns_that_look_personal(tmp_path: Path) -> None:
    rows = ["first,last,cc_num,text,label"] + [
        f"Ann,Lee,4111111111111111,question {i},{i % 2}" for i in range(60)
    ]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    tunesmith("init", "t.csv", cwd=tmp_path)
    recipe_text = (tmp_path / "recipe.yaml").read_text(encoding="utf-8")
    assert "columns: {cc_num: mask, first: mask, last: mask}" in recipe_text

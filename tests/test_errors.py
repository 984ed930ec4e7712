"""Bad input that must get a clear error from the real CLI and lose nothing."""

from pathlib import Path
from subprocess import CompletedProcess

from cli_helpers import tunesmith
from helpers import faq_records, write_jsonl


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "r.yaml").write_text("data: {train: empty.jsonl}\n")
    result = tunesmith("prepare", "r.yaml", "-o", "run", cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert "empty.jsonl: the file is empty" in result.stderr
    assert "Traceback" not in result.stderr


def test_recipe_with_unknown_key(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text("data: {train: a.jsonl}\nmodle: {name: x}\n")
    result = tunesmith("run", "r.yaml", cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert "modle: unknown key" in result.stderr and "model" in result.stderr


def _run_with_model(tmp_path: Path, model: str) -> CompletedProcess[str]:
    write_jsonl(tmp_path / "faq.jsonl", faq_records(40))
    (tmp_path / "r.yaml").write_text(
        f"data: {{train: faq.jsonl, text_field: question, label_field: intent}}\nmodel: {{name: {model}}}\n"
    )
    result = tunesmith("run", "r.yaml", "-o", "run", cwd=tmp_path, check=False)
    assert result.returncode == 2
    return result


def test_model_path_that_does_not_exist(tmp_path: Path) -> None:
    result = _run_with_model(tmp_path, "./no/such/model")
    assert "model path ./no/such/model does not exist" in result.stderr
    assert not (tmp_path / "run").exists()  # a failed run leaves no half-written run folder


def test_hub_id_offline_says_how_to_use_a_local_folder(tmp_path: Path) -> None:
    result = _run_with_model(tmp_path, "bert-base-chinese")
    assert "set model.name: DIR" in result.stderr


def test_every_verb_has_help_with_examples(tmp_path: Path) -> None:
    for verb in ("init", "prepare", "train", "evaluate", "run", "predict", "serve"):
        result = tunesmith(verb, "--help", cwd=tmp_path)
        assert "Examples" in result.stdout, verb

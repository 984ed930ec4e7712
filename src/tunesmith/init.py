"""`tunesmith init`: look at a data file and write a commented recipe for it."""

from __future__ import annotations

from pathlib import Path

import yaml

from tunesmith import atomic
from tunesmith.data.inspect import SAMPLE, Inspection, inspect_file
from tunesmith.data.pii.columns import PERSONAL_COLUMN_TYPES, column_type
from tunesmith.models.resolve import default_model_for
from tunesmith.recipe import validate


def _q(value: str) -> str:
    return yaml.safe_dump(value, allow_unicode=True, default_style=None).strip().removesuffix("\n...")


def recipe_text(data: Path, found: Inspection, out: Path) -> str:
    recipe_dir = out.parent
    try:
        rel = data.resolve().relative_to(recipe_dir.resolve())
    except ValueError:
        rel = data.resolve()
    shown = ", ".join(found.labels[:8]) + (" ..." if len(found.labels) > 8 else "")
    seen = f"in the first {found.rows:,} records" if found.rows >= SAMPLE else "in the file"
    model = default_model_for(found.language)
    task_type = (
        "multilabel   # the label field holds lists: any number of labels per text, [] allowed"
        if found.multi_label
        else "classification"
    )
    personal = [f for f in found.fields if column_type(f) in PERSONAL_COLUMN_TYPES]
    suggestion = "{" + ", ".join(f"{f}: mask" for f in personal) + "}"
    columns = (
        f"    # These columns look personal; give them a policy if a template puts them in the text:\n"
        f"    # columns: {suggestion}"
        if personal
        else "    # columns: {user_id: pseudonym, location: generalize, amount: keep}"
    )
    return f"""\
# tunesmith recipe, written by `tunesmith init {data.name}`.
# Run it:   tunesmith run {out.name}
# Every key and its default: see src/tunesmith/recipe.py. Override any with --set a.b=c.
name: {_q(data.stem)}
seed: 42
data:
  train: {_q(str(rel))}
  # validation: valid.jsonl   # separate files; without them, validation and test are split off
  # test: test.jsonl
  text_field: {_q(found.text_field)}
  label_field: {_q(found.label_field)}   # {len(found.labels)} labels {seen}: {shown}
prepare:
  pii:
    # De-identification is on: phones, ID-card, bank-card and passport numbers, emails, IPs,
    # plates, birth dates, person names and addresses are replaced before anything is tokenized
    # or written. Keep it on unless the data holds no personal data; turning it off is this
    # explicit line.
    enabled: true
    action: mask   # mask | partial (138****5678) | pseudonym (keyed HMAC: TUNESMITH_PII_KEY) | fake | drop
    # Whole columns of tabular data: keep | mask | partial | pseudonym | fake | generalize | drop
{columns}
split:
  validation: 0.1
  test: 0.1
  method: stratified   # random | group (split.group_field) | time (split.time_field) | hash (data.id_field)
model:
  # detected language: {found.language} -> {model}
  name: {model}
  max_length: 128
task:
  type: {task_type}
training:
  epochs: 3
  batch_size: 32
  learning_rate: 5.0e-05
"""


def write_recipe(data: Path, out: Path) -> tuple[Path, Inspection]:
    found = inspect_file(data)
    text = recipe_text(data, found, out)
    validate(yaml.safe_load(text), str(out))  # what init writes must load
    atomic.write_text(out, text)
    return out, found

"""Tabular records (transactions, claims, structured visits): a label from a record's fields.

Several learners can read a record (`learners/`):
- trees on the fields as columns - numbers, categories, dates, and one column per item of a list
  or key of an object (LightGBM in three settings, XGBoost) - and a linear model on the same
  columns: the models tables usually want;
- the transformer on each record written as a sentence through `data.text_template`, which can
  also read a free-text field (a note, a description) that trees cannot.
`task.tabular_model` says which train: `auto` fits the column learners, and the transformer too
when a field holds free text or lists and objects of named items (symptoms read as words);
`trees` the column learners alone; `transformer` it alone; `best` all. The best on validation,
or their weighted ensemble, becomes the bundle's model (train/learners.py).

Scores are calibrated like the classification task's (one temperature on validation), and a
binary decision threshold is tuned on validation: best F1, or the least cost (`task.cost`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tunesmith.data.column_table import ColumnTable
from tunesmith.tasks.classification import ClassificationTask

TREES, TRANSFORMER = "trees", "transformer"
COLUMN_LEARNERS = ("lightgbm", "lightgbm_xt", "lightgbm_large", "lightgbm_rf", "xgboost", "column_linear")


def _read(path: Path, limit: int) -> list[dict[str, Any]]:
    rows = []
    if path.is_file():
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    rows.append(json.loads(line))
                if len(rows) >= limit:
                    break
    return rows


class TabularTask(ClassificationTask):
    type = "tabular"
    keeps_columns = True
    inputs = ("text", "columns")
    headline = ("accuracy", "macro_f1", "pr_auc")

    def learners(self, run_dir: Path) -> tuple[str, ...]:
        """What trains: the recipe's `tabular_model`, or for auto the training rows decide (the
        transformer joins when a field holds free text, or lists and objects of named items)."""
        wanted = self.options.tabular_model
        if wanted == TREES:
            return COLUMN_LEARNERS
        if wanted == TRANSFORMER:
            return (TRANSFORMER,)
        if wanted == "best":
            return (*COLUMN_LEARNERS, TRANSFORMER)
        rows = [r["columns"] for r in _read(run_dir / "data" / "train.jsonl", 5000)]
        table = ColumnTable.fit(rows)
        words = table.free_text or table.structured
        return (*COLUMN_LEARNERS, TRANSFORMER) if words else COLUMN_LEARNERS

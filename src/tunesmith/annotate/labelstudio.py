"""Label Studio tasks and exports (JSON, JSON-MIN, CSV) to and from tunesmith records.

Label Studio is the common open annotation tool; its formats are plain JSON/CSV, so no client
library is needed. Text classification uses a `<Choices>` control, entities a `<Labels>` control.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from tunesmith.errors import DataError

FROM_NAME = "label"
TO_NAME = "text"


def labeling_config(labels: Sequence[str], multiple: bool = False) -> str:
    """The project's labeling config (XML) for text classification with these labels."""
    choice = "multiple" if multiple else "single"
    options = "\n".join(f"    <Choice value={quoteattr(label)}/>" for label in labels)
    return (
        "<View>\n"
        f'  <Text name="{TO_NAME}" value="${TO_NAME}"/>\n'
        f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="{choice}" showInLine="true">\n'
        f"{options}\n  </Choices>\n</View>\n"
    )


def _choices(labels: str | list[str]) -> dict[str, Any]:
    values = labels if isinstance(labels, list) else [labels]
    return {"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices", "value": {"choices": values}}


def to_task(
    text: str,
    data: dict[str, Any] | None = None,
    label: str | list[str] | None = None,
    prediction: tuple[str | list[str], float] | None = None,
    model_version: str = "tunesmith",
) -> dict[str, Any]:
    """One Label Studio task: the text (plus other fields), an existing label as a finished
    annotation, and/or a model's suggestion as a prediction with its score."""
    task: dict[str, Any] = {"data": {**(data or {}), TO_NAME: text}}
    if label is not None:
        task["annotations"] = [{"result": [_choices(label)], "was_cancelled": False}]
    if prediction is not None:
        suggested, score = prediction
        task["predictions"] = [
            {"model_version": model_version, "score": round(float(score), 6), "result": [_choices(suggested)]}
        ]
    return task


def _label_from_result(results: Iterable[dict[str, Any]]) -> Any:
    """choices -> a label (or a list for several); labels (entity spans) -> [{start, end, label}]."""
    choices: list[str] = []
    spans: list[dict[str, Any]] = []
    for result in results:
        value = result.get("value", {})
        if result.get("type") == "choices":
            choices.extend(value.get("choices", []))
        elif result.get("type") == "labels":
            for label in value.get("labels", []):
                spans.append({"start": value["start"], "end": value["end"], "label": label})
    if spans:
        return sorted(spans, key=lambda s: (s["start"], s["end"]))
    if not choices:
        return None
    return choices[0] if len(choices) == 1 else choices


def _from_full_export(tasks: list[dict[str, Any]], path: Path) -> list[dict[str, Any]]:
    records = []
    for position, task in enumerate(tasks, start=1):
        data = task.get("data")
        if not isinstance(data, dict) or TO_NAME not in data:
            raise DataError(f"{path}: task {position} has no data.{TO_NAME}; is this a Label Studio export?")
        done = [a for a in task.get("annotations", []) if not a.get("was_cancelled")]
        done.sort(key=lambda a: str(a.get("updated_at") or a.get("created_at") or ""))
        label = _label_from_result(done[-1].get("result", [])) if done else None
        others = {k: v for k, v in data.items() if k != TO_NAME}
        records.append({**others, "text": data[TO_NAME], "label": label, "ls_id": task.get("id")})
    return records


def read_export(path: Path, label_key: str = FROM_NAME) -> list[dict[str, Any]]:
    """Records {text, label, ...} from a Label Studio export: JSON (full), JSON-MIN or CSV.

    An unlabelled or skipped task keeps `label: None`, so nothing disappears on the way.
    """
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix.lower() in (".csv", ".tsv"):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t" if path.suffix.lower() == ".tsv" else ","))
        return [_flat(row, label_key, path, line) for line, row in enumerate(rows, start=2)]
    try:
        tasks = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(tasks, list):
        raise DataError(f"{path}: a Label Studio export is a JSON list of tasks")
    if tasks and isinstance(tasks[0], dict) and "data" in tasks[0]:
        return _from_full_export(tasks, path)
    return [_flat(row, label_key, path, line) for line, row in enumerate(tasks, start=1)]


def _flat(row: dict[str, Any], label_key: str, path: Path, line: int) -> dict[str, Any]:
    """JSON-MIN / CSV rows: the text column and the control's column (choices may be JSON)."""
    if TO_NAME not in row:
        raise DataError(f"{path}: record {line} has no '{TO_NAME}' field (columns: {', '.join(row)})")
    value: Any = row.get(label_key)
    if isinstance(value, str) and value.startswith("{"):
        value = json.loads(value).get("choices")
    if isinstance(value, dict):
        value = value.get("choices")
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    others = {k: v for k, v in row.items() if k not in (TO_NAME, label_key)}
    return {**others, "text": row[TO_NAME], "label": value if value not in ("", None) else None}

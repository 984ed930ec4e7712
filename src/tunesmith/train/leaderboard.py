"""The leaderboard of a train stage that fitted several learners: what each one did, the summary
written to `train_summary.json`, and the table the console prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rich.table import Table

from tunesmith.console import console
from tunesmith.learners.catalog import TRANSFORMER, title
from tunesmith.learners.scoring import Score
from tunesmith.recipe import Recipe
from tunesmith.train.budget import Budget


@dataclass
class Fitted:
    """One learner's result: validation logits (None when it failed or there is no validation)."""

    name: str
    seconds: float = 0.0
    validation: np.ndarray | None = None
    oof: np.ndarray | None = None  # out-of-fold logits of the training rows (bagged learners)
    ms_per_row: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    skipped: bool = False  # not fitted: the time limit left too little
    state: dict[str, Any] | None = None  # the task's calibration of this learner alone
    score: Score | None = None
    temperature: float = 1.0


def leaderboard(fitted: dict[str, Fitted], choice: dict[str, Any]) -> list[dict[str, Any]]:
    """Every learner, best first: validation figure, seconds, ms per row, weight in the model."""
    weights = {m["learner"]: m["weight"] for m in choice["members"]}
    rows = []
    for name, f in fitted.items():
        row: dict[str, Any] = {
            "learner": name,
            "title": title(name),
            "status": "skipped" if f.skipped else "failed" if f.error else "fitted",
            "fit_seconds": round(f.seconds, 3),
            "ms_per_row": f.ms_per_row,
            "weight": weights.get(name, 0.0),
            "temperature": f.temperature,
            "details": f.details,
        }
        if f.error:
            row["error"] = f.error
        if f.score is not None:
            row["validation"] = {
                f.score.metric: f.score.value,
                "log_loss" if f.score.metric != "rmse" else "mse": f.score.loss,
            }
        if f.state is not None and name != TRANSFORMER:
            row["state"] = f.state
        rows.append(row)
    if choice["served"] == "ensemble":
        rows.append(
            {
                "learner": "ensemble",
                "title": "weighted ensemble: "
                + " + ".join(f"{m['learner']} ({m['weight']:.2f})" for m in choice["members"]),
                "status": "fitted",
                "fit_seconds": round(sum(fitted[m["learner"]].seconds for m in choice["members"]), 3),
                "ms_per_row": _sum_ms(fitted, choice),
                "weight": 1.0,
                "validation": {choice["metric"]: choice["ensemble"]["validation"]},
            }
        )
    metric = choice.get("metric")

    def order(row: dict[str, Any]) -> tuple[int, float]:
        value = row.get("validation", {}).get(metric) if metric else None
        if value is None or value != value:
            return (1, 0.0)
        return (0, -value if metric != "rmse" else value)

    return sorted(rows, key=order)


def _sum_ms(fitted: dict[str, Fitted], choice: dict[str, Any]) -> float | None:
    times = [fitted[m["learner"]].ms_per_row for m in choice["members"]]
    return None if any(t is None for t in times) else float(sum(times))  # type: ignore[arg-type]


def summary_of(
    recipe: Recipe,
    choice: dict[str, Any],
    fitted: dict[str, Fitted],
    transformer: dict[str, Any],
    budget: Budget,
) -> dict[str, Any]:
    """train_summary.json of a run that fitted several learners: the transformer's own summary
    (when it trained), what serves, the choice, the leaderboard and the time limit's use."""
    served = choice["served"]
    if served == TRANSFORMER:
        model = transformer.get("model", recipe.model.name)
    elif served == "ensemble":
        parts = [
            transformer.get("model", TRANSFORMER) if m["learner"] == TRANSFORMER else m["learner"]
            for m in choice["members"]
        ]
        model = "ensemble of " + ", ".join(parts)
    else:
        model = f"{served} ({title(served)})"
    summary = {
        **({k: v for k, v in transformer.items() if k != "model"} if transformer else {}),
        "model": model,
        "learner": served,
        "choice": choice,
        "leaderboard": leaderboard(fitted, choice),
        "budget": budget.report(),
    }
    if not transformer:
        summary.update(
            steps=None,
            epochs=None,
            precision="fp32 features",
            world_size=1,
            hyperparameters={},
            train_runtime_s=sum(f.seconds for f in fitted.values()),
        )
    return summary


def print_leaderboard(summary: dict[str, Any]) -> None:
    metric = summary["choice"].get("metric") or "validation"
    table = Table(title="learners (validation)")
    for column in ("learner", metric, "fit s", "ms/row", "weight"):
        table.add_column(column, justify="left" if column == "learner" else "right")
    for row in summary["leaderboard"]:
        value = row.get("validation", {}).get(metric)
        shown = (
            row.get("error", "")[:60]
            if row["status"] != "fitted"
            else ("-" if value is None else f"{value:.4f}")
        )
        table.add_row(
            row["learner"],
            shown,
            f"{row['fit_seconds']:.1f}",
            "-" if row.get("ms_per_row") is None else f"{row['ms_per_row']:.2f}",
            f"{row['weight']:.2f}" if row["weight"] else "",
        )
    console.print(table)

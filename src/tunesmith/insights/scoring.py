"""Scoring pages of records with a run's model: in this process, or on Ray actors that each load
the model once (`--engine ray`); pages come back in the order they went out, so the caller
commits them in order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tunesmith.parallel import ray_actor_map

Page = tuple[list[dict[str, Any]], Any]  # the usable rows of a page, and what the caller tags it with


def score_rows(
    predictor: Any, rows: list[dict[str, Any]], text_column: str, run_name: str, batch_size: int
) -> None:
    """Add the model's answer to each row (`_text`: the text as scored, de-identified; `label`,
    `score`, `scored_at`, `_run`), `batch_size` texts per model call."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        seen = predictor.model_input([r["_row"][text_column] for r in chunk])
        answers = predictor.predict(seen, batch_size=len(seen))
        for row, example, answer in zip(chunk, seen, answers, strict=True):
            row["_text"] = example["text"]
            row["label"] = answer["label"] if "label" in answer else ",".join(answer.get("labels", []))
            row["score"] = answer.get("score")
            row["scored_at"] = now
            row["_run"] = run_name


class PageScorer:
    """A loaded model that scores one page at a time (in this process, or as a Ray actor)."""

    def __init__(
        self, run_dir: str, backend: str, text_column: str, batch_size: int, predictor: Any = None
    ) -> None:
        from tunesmith.runtime.predict import Predictor

        self.predictor = predictor or Predictor.from_run(Path(run_dir), backend=backend)
        self.settings = (text_column, str(Path(run_dir).resolve()), batch_size)

    def score(self, page: Page) -> Page:
        rows, tag = page
        text_column, run_name, batch_size = self.settings
        score_rows(self.predictor, rows, text_column, run_name, batch_size)
        return rows, tag


@contextmanager
def open_scorer(
    engine: str,
    workers: int,
    address: str | None,
    scorer_args: tuple[str, str, str, int],
    predictor: Any = None,
) -> Iterator[Callable[[Iterable[Page]], Iterator[Page]]]:
    """A function that scores pages in order: here (with `predictor`, when loaded already), or on
    `workers` Ray actors that each load the run."""
    if engine == "local":
        scorer = PageScorer(*scorer_args, predictor=predictor)
        yield lambda pages: (scorer.score(page) for page in pages)
        return
    with ray_actor_map(address, workers, PageScorer, scorer_args, "score") as run:
        yield run

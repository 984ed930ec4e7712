"""The playground's model: a run loaded the way `tunesmith predict` loads it (backend auto, the
bundle verified), kept for the next question; the answer comes with the text as the model saw
it - cleaned and de-identified by the run's own prepare settings."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunesmith.errors import TunesmithError
from tunesmith.runtime.predict import Predictor


@dataclass(frozen=True)
class Answer:
    run: str
    backend: str
    version: str  # the run folder's name (what `tunesmith serve` calls the version) and its creation
    seen: dict[str, str]  # each input as the model saw it
    answer: dict[str, Any]
    bars: list[tuple[str, float]]  # (label, probability), largest first: the chart
    more: int  # labels left out of the chart (it shows the most probable BARS)


BARS = 20


def _bars(answer: dict[str, Any]) -> list[tuple[str, float]]:
    probabilities = answer.get("probabilities")
    if isinstance(probabilities, dict):
        numbers = {str(k): float(v) for k, v in probabilities.items() if isinstance(v, int | float)}
        return sorted(numbers.items(), key=lambda kv: -kv[1])
    return []


class Playground:
    def __init__(self, keep: int = 2) -> None:
        self.keep = keep
        self._loaded: OrderedDict[tuple[str, float], Predictor] = OrderedDict()
        self._lock = threading.Lock()

    def predictor(self, run_dir: Path) -> Predictor:
        manifest = run_dir / "manifest.json"
        key = (str(run_dir), manifest.stat().st_mtime if manifest.is_file() else 0.0)
        with self._lock:
            if key in self._loaded:
                self._loaded.move_to_end(key)
                return self._loaded[key]
        predictor = Predictor.from_run(run_dir, backend="auto")
        with self._lock:
            self._loaded[key] = predictor
            while len(self._loaded) > self.keep:
                self._loaded.popitem(last=False)
        return predictor

    def ask(self, run_dir: Path, version: str, text: str, text_pair: str | None) -> Answer:
        """The answer to a text (and its pair); a tabular run takes a row as a JSON object."""
        predictor = self.predictor(run_dir)
        example: dict[str, Any] = {"text": text} if not text_pair else {"text": text, "text_pair": text_pair}
        if "columns" in predictor.task.inputs and text.strip().startswith("{"):
            try:
                example = {"record": json.loads(text)}
            except json.JSONDecodeError as error:
                raise TunesmithError(f"the row is not valid JSON: {error}") from None
        predictor.check([example])
        seen = predictor.model_input([example])[0]
        answer = predictor.predict([seen])[0]
        bars = _bars(answer)
        return Answer(
            run_dir.name,
            predictor.backend,
            version,
            {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in seen.items()},
            answer,
            bars[:BARS],
            max(0, len(bars) - BARS),
        )

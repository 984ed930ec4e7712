"""Directional and invariance expectations in the CheckList style (Ribeiro et al., 2020).

Each expectation in `evaluation.expectations` adds a text to every test text: "up" says the
probability of a label must not fall (by more than a tolerance), "down" that it must not rise,
"same" that the answer must not change. The report gives each expectation's failure rate and
the worst failures; gates read `expectations.failure_rate` (the worst) or
`expectations.checks.NAME.failure_rate`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tunesmith.errors import RecipeError

EXAMPLES = 3  # failures shown per expectation


def _changed(text: str, expectation: Any) -> str:
    joiner = "" if expectation.add[:1].isspace() or expectation.add[-1:].isspace() else " "
    if expectation.at == "start":
        return f"{expectation.add}{joiner}{text}"
    return f"{text}{joiner}{expectation.add}"


def _fails(before: dict[str, Any], after: dict[str, Any], expectation: Any) -> tuple[bool, float]:
    """(failed, how far it moved the wrong way) for one record."""
    if expectation.direction == "same":
        return before["label"] != after["label"], float(before["label"] != after["label"])
    p0 = before["probabilities"][expectation.label]
    p1 = after["probabilities"][expectation.label]
    wrong_way = p0 - p1 if expectation.direction == "up" else p1 - p0
    return wrong_way > expectation.tolerance, wrong_way


def check_expectations(
    records: Sequence[dict[str, Any]],
    answers: Sequence[dict[str, Any]],
    answer: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    expectations: Sequence[Any],
    labels: list[str],
) -> dict[str, Any]:
    """{checks: {name: {failure_rate, failures, tested, examples}}, failure_rate: the worst}."""
    found: dict[str, Any] = {}
    for expectation in expectations:
        if expectation.label is not None and expectation.label not in labels:
            raise RecipeError(
                f"evaluation.expectations.{expectation.name}.label: {expectation.label!r} is not one of "
                f"the model's labels ({', '.join(labels[:10])})"
            )
        changed = [{**r, "text": _changed(r["text"], expectation)} for r in records]
        after = answer(changed)
        outcomes = [_fails(b, a, expectation) for b, a in zip(answers, after, strict=True)]
        failed = [i for i, (fails, _) in enumerate(outcomes) if fails]
        worst = sorted(failed, key=lambda i: -outcomes[i][1])[:EXAMPLES]
        found[expectation.name] = {
            "direction": expectation.direction,
            "label": expectation.label,
            "add": expectation.add,
            "tested": len(records),
            "failures": len(failed),
            "failure_rate": len(failed) / len(records) if records else 0.0,
            "examples": [
                {
                    "text": changed[i]["text"][:200],
                    "before": answers[i]["label"],
                    "after": after[i]["label"],
                    **(
                        {
                            "probability_before": answers[i]["probabilities"][expectation.label],
                            "probability_after": after[i]["probabilities"][expectation.label],
                        }
                        if expectation.label is not None
                        else {}
                    ),
                }
                for i in worst
            ],
        }
    rates = [v["failure_rate"] for v in found.values()]
    return {"checks": found, "failure_rate": max(rates) if rates else 0.0}

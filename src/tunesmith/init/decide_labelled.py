"""Records with a label: the inputs decide - two texts and a 0/1 label are a matching pair, free text
is classified, rows of numbers and categories are a table."""

from __future__ import annotations

from tunesmith.data.columns import Column
from tunesmith.errors import DataError
from tunesmith.init.choices import LIST_SEPARATOR, Choice, describe_candidate, task_of, text_columns
from tunesmith.init.planner_state import PlannerState
from tunesmith.init.roles import (
    LabelCandidate,
    gives_label_away,
    group_column,
    template_inputs,
)

# what trees and linear models read of a field of this shape (data/column_table.py)
STRUCTURED = {
    "list": "one column per item (1 when the record lists it)",
    "flags": "one column per key (true 1, false -1, not mentioned: missing)",
    "dict": "one column per key, nested keys dotted (numbers as they are, true 1, false -1)",
}


class LabelledDecisions(PlannerState):
    def _labelled(self, candidates: list[LabelCandidate]) -> None:
        plan = self.plan
        best = candidates[0]
        label = best.column
        leaks = [c for c in self.columns if gives_label_away(c, label)]
        group = group_column(self.columns, {label.path} | {c.path for c in leaks})
        unusable = {c.path for c in leaks} | ({group.path} if group else set())
        runner = next((c for c in candidates[1:] if c.path not in unusable), None)
        reason = best.reason + ("; named like a label" if best.score >= 4 else "")
        plan.label_field = label.path
        plan.label = Choice(label.path, reason, describe_candidate(runner) if runner else None)
        self.role(label.path, f"the label: {reason}")
        if best.kind != "number":
            counts = label.items() if best.kind == "multi" else label.counts
            plan.labels = sorted(counts)
        for leak in leaks:
            plan.leaks.append(leak.path)
            self.role(
                leak.path,
                f"gives the label away (each of its values goes with one {label.path}): never an input",
            )
        excluded = {label.path} | {c.path for c in leaks}
        excluded |= {c.path for c in self.columns if c.kind in ("id", "empty", "constant")}
        task = self.wishes.task or task_of(best)
        if task == "regression" and not label.numeric:
            raise DataError(f"--task regression: '{label.path}' holds {label.kind} values, not numbers")
        texts = text_columns(self.columns, excluded)
        if self.wishes.text and "{" not in self.wishes.text:
            wished = self.column(self.wishes.text, "--text")
            texts = [wished, *[t for t in texts if t is not wished]]
        pair = self.column(self.wishes.pair, "--pair") if self.wishes.pair else None
        binary = best.kind == "single" and len(label.counts) == 2
        if (
            task == "matching"
            or pair is not None
            or (self.wishes.task is None and binary and len(texts) >= 2)
        ):
            self._matching(texts, pair)
        elif task == "tabular" or not texts or (self.wishes.text and "{" in self.wishes.text):
            self._template_task(task, best, excluded, self.wishes.text or "")
        else:
            self._text_task(task, texts, runner)

    def _matching(self, texts: list[Column], pair: Column | None) -> None:
        plan = self.plan
        firsts = [t for t in texts if t is not pair]
        if not firsts or (pair is None and len(firsts) < 2):
            raise DataError(f"{plan.source}: matching needs two text fields (the pair); found {len(texts)}")
        first = firsts[0]
        second = pair or firsts[1]
        if second.order < first.order and self.wishes.text is None and pair is None:
            first, second = second, first
        plan.text_field, plan.pair_field = first.path, second.path
        plan.task = Choice(
            "matching",
            f"two texts ('{first.path}', '{second.path}') and a 0/1 label: does the second match the first",
            f"classification of '{first.path}' alone",
        )
        plan.text = Choice(first.path, "the first text", None)
        self.role(first.path, "the first text of each pair")
        self.role(second.path, "the second text of each pair")

    def _text_task(self, task: str, texts: list[Column], runner: LabelCandidate | None) -> None:
        """One text field, or several joined (a subject and a body) when the record has them."""
        plan = self.plan
        text = texts[0]
        if self.wishes.text or len(texts) == 1:
            plan.text_field = text.path
            runner_text = f"'{texts[1].path}' ({texts[1].reason})" if len(texts) > 1 else None
            plan.text = Choice(text.path, text.reason, runner_text)
        else:
            plan.text_field = [t.path for t in sorted(texts, key=lambda t: t.order)]
            plan.text = Choice(
                " + ".join(plan.text_field), f"{len(texts)} free-text fields, joined", f"'{text.path}' alone"
            )
        for column in texts if isinstance(plan.text_field, list) else [text]:
            self.role(column.path, f"the text: {column.reason}")
        why = {
            "classification": f"one label per text, {len(plan.labels)} labels",
            "multilabel": "the label holds lists: any number of labels per text, [] allowed",
            "regression": "the label is a number with many values",
        }.get(task, "--task")
        plan.task = Choice(task, why, task_of(runner) + f" on '{runner.path}'" if runner else None)

    def _template_task(self, task: str, best: LabelCandidate, excluded: set[str], template: str = "") -> None:
        """No free text: the model reads each row as a sentence made from its useful columns."""
        plan = self.plan
        group = group_column(self.columns, excluded)
        chosen, left_out = template_inputs(self.columns, excluded | ({group.path} if group else set()))
        for path, why in left_out.items():
            self.role(path, f"not an input: {why}")
        if not template:
            if not chosen:
                raise DataError(f"{plan.source}: besides '{best.path}' no field can be an input")
            template = "; ".join(f"{c.name}: {{{c.path}{'?' if c.sometimes_empty else ''}}}" for c in chosen)
            for column in chosen:
                shape = f"; {STRUCTURED[column.kind]}" if column.kind in STRUCTURED else ""
                self.role(column.path, f"in the template{shape}: {column.reason}")
        tabular_kinds = sum(c.kind in ("number", "category", "datetime") for c in chosen)
        structured = [c for c in chosen if c.kind in STRUCTURED]
        readable = tabular_kinds + len(structured)
        if self.wishes.task is None and best.kind == "single" and readable >= 0.5 * max(len(chosen), 1):
            task = "tabular"
            prose = [c.path for c in chosen if c.kind == "text"]
            plan.tabular_model = "auto" if structured else "best" if prose else "trees"
            why = (
                f"records of {readable} fields a table can hold and a label with {len(plan.labels)} values: "
                "trees and a linear model on the fields as columns"
                + (" (one per item of a list, one per key of an object)" if structured else "")
                + (
                    f"; a transformer reads each record as a sentence too (for the words in "
                    f"{', '.join(prose or [c.path for c in structured])}), and the best on validation, "
                    "or their ensemble, is served"
                    if prose or structured
                    else ""
                )
            )
            runner = "classification of each row written as a sentence (a transformer), without the trees"
        else:
            why = "no free text: each record becomes a sentence of its fields"
            runner = None
        plan.task = Choice(task, why, runner)
        plan.text_template = template
        plan.list_separator = LIST_SEPARATOR
        plan.text = Choice(template, "a sentence per record from its useful fields")

    # -- everything else -----------------------------------------------------------------------

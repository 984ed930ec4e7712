"""From profiled columns to a plan: the task, the fields it reads, the split, the model, and why.

The order of questions: do the records carry entity annotations (NER)? an answer inside a
context (extractive QA)? a label (which column, and which columns give it away)? Without a label,
two texts are a translation, a summary or an instruction with its response. With one, the inputs
decide: two texts and a 0/1 label are a matching pair, free text is classified, and rows of
numbers and categories are a table (a sentence template for the transformer, gradient boosting
beside it). Every choice keeps one reason and the runner-up, for the recipe's comments.
"""

from __future__ import annotations

from pathlib import Path

from tunesmith.data.columns import profile
from tunesmith.data.read import LINES_FILE
from tunesmith.errors import DataError
from tunesmith.init.choices import MIN_RECORDS, Choice, Plan, Wishes, rename_headerless
from tunesmith.init.decide_finish import FinishingDecisions
from tunesmith.init.decide_labelled import LabelledDecisions
from tunesmith.init.decide_unlabelled import UnlabelledDecisions
from tunesmith.init.roles import (
    LabelCandidate,
    rank_labels,
)
from tunesmith.init.sample import read_sample
from tunesmith.init.shapes import Entities, Questions, find_entities, find_questions
from tunesmith.recipe import TASK_TYPES

__all__ = ["Choice", "Plan", "Wishes", "analyse"]


class _Planner(LabelledDecisions, UnlabelledDecisions, FinishingDecisions):
    # -- the decision --------------------------------------------------------------------------
    def decide(self) -> Plan:
        wished = self.wishes.task
        if wished in (None, "token_classification") and (entities := self._entities()):
            self._ner(entities)
        elif wished in (None, "extractive_qa") and (qa := self._questions()):
            self._qa(qa)
        else:
            candidates = self._label_candidates()
            if candidates and wished not in ("seq2seq", "causal_lm"):
                self._labelled(candidates)
            else:
                self._unlabelled(candidates)
        self._finish()
        return self.plan

    def _entities(self) -> Entities | None:
        found = find_entities(self.columns)
        if found is None and self.wishes.task == "token_classification":
            raise DataError(
                f"{self.sample.path}: --task token_classification, but no field holds word/tag text, "
                "token and BIO-tag lists, or {start, end, label} spans"
            )
        return found

    def _questions(self) -> Questions | None:
        wishes = self.wishes
        if wishes.task == "extractive_qa" and wishes.text and wishes.pair and wishes.label:
            for path, flag in ((wishes.text, "--text"), (wishes.pair, "--pair"), (wishes.label, "--label")):
                self.column(path, flag)
            return Questions(wishes.text, wishes.pair, wishes.label, "--task extractive_qa")
        if wishes.label is not None or wishes.text is not None:
            return None
        found = find_questions(self.columns)
        if found is None and self.wishes.task == "extractive_qa":
            raise DataError(
                f"{self.sample.path}: --task extractive_qa, but no field holds an answer found inside "
                "another field (the context)"
            )
        return found

    def _label_candidates(self) -> list[LabelCandidate]:
        wish = self.wishes.label
        if wish == "none":
            return []
        ranked = [c for c in rank_labels(self.columns) if c.path not in (self.wishes.text, self.wishes.pair)]
        if wish is None:
            return ranked
        column = self.column(wish, "--label")
        chosen = [c for c in ranked if c.path == wish]
        if not chosen:
            # a text named as the label is the text to produce: a translation's target language
            if self.wishes.task in ("seq2seq", "causal_lm") or column.kind == "text":
                return []
            raise DataError(
                f"--label {wish!r}: {column.kind} values ({column.reason}) cannot be a label; a label "
                "repeats: 2 to 500 categories, lists of names, or a number to predict"
            )
        return chosen + [c for c in ranked if c.path != wish]

    # -- annotated text ------------------------------------------------------------------------
    def _ner(self, found: Entities) -> None:
        plan = self.plan
        plan.task = Choice("token_classification", found.reason)
        plan.ner_format = found.format
        plan.text_field, plan.label_field = found.text, found.label
        plan.labels = found.types
        plan.text = Choice(found.text, "the annotated text")
        plan.pii_types_off = found.pii_types_to_keep_off()
        self.role(found.text, "text with its entities")
        if found.label:
            self.role(found.label, "the entities")

    def _qa(self, found: Questions) -> None:
        plan = self.plan
        plan.task = Choice("extractive_qa", found.reason)
        plan.text_field, plan.pair_field, plan.label_field = found.question, found.context, found.answer
        plan.text = Choice(found.question, "the question")
        for path, role in ((found.question, "the question"), (found.context, "the context")):
            self.role(path, role)
        self.role(found.answer.removesuffix(".0"), "the answer (a span of the context)")

    # -- no label ------------------------------------------------------------------------------


def analyse(path: Path, wishes: Wishes | None = None, show: bool = True) -> Plan:
    """Read a sample of `path` (a progress line while reading when `show`), profile its columns
    and plan the recipe."""
    wishes = wishes or Wishes()
    if wishes.task is not None and wishes.task not in TASK_TYPES:
        raise DataError(f"--task {wishes.task!r}: use one of {', '.join(TASK_TYPES)}")
    if wishes.task == "multitask":
        raise DataError("--task multitask: name the heads in the recipe (task.heads); init plans one task")
    sample = read_sample(path, show=show)
    if sample.rows < MIN_RECORDS:
        raise DataError(
            f"{path}: only {sample.rows} records. A model needs at least {MIN_RECORDS} labelled records "
            "to learn from and to be tested on; this looks like a lookup table or a knowledge base."
        )
    columns = profile(sample.records)
    names = rename_headerless(sample, columns) if sample.headerless else None
    plan = _Planner(sample, columns, wishes).decide()
    plan.columns = names
    if set(sample.formats) == {"lines"}:
        plan.data_format = "lines"
        if plan.label_field == LINES_FILE:
            plan.label = Choice(LINES_FILE, "one file per label: the file's name is the label")
    if sample.headerless:
        plan.warnings.append(f"the file has no header row: its columns are named {', '.join(names or [])}")
    if not sample.complete:
        plan.warnings.append(f"init read the first {sample.rows:,} records; the run reads them all")
    if sample.rows < 500:
        plan.warnings.append(f"{sample.rows} records is little to learn from; expect wide intervals")
    return plan

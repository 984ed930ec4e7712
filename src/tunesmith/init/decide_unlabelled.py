"""Records without a label: two texts in two languages are a translation, a long and a short text
a summary, an instruction and its response a causal language model."""

from __future__ import annotations

from tunesmith.data.columns import Column
from tunesmith.errors import DataError
from tunesmith.init.choices import _INSTRUCTION, _RESPONSE, Choice, seq2seq_prompt, text_columns
from tunesmith.init.planner_state import PlannerState
from tunesmith.init.roles import (
    LabelCandidate,
    name_parts,
)


class UnlabelledDecisions(PlannerState):
    def _unlabelled(self, candidates: list[LabelCandidate]) -> None:
        plan = self.plan
        texts = text_columns(self.columns, set())
        if self.wishes.text:
            texts = [
                self.column(self.wishes.text, "--text"),
                *[t for t in texts if t.path != self.wishes.text],
            ]
        target = (
            self.column(self.wishes.label, "--label") if self.wishes.label not in (None, "none") else None
        )
        if target is not None:
            texts = [t for t in texts if t is not target]
        if len(texts) + (target is not None) < 2:
            raise DataError(self._no_label_message(texts))
        source = texts[0]
        if target is None:
            target = texts[1]
            if self.wishes.text is None:  # neither named: the data says which way
                source, target = self._direction(texts[0], texts[1])
        plan.text_field, plan.label_field = source.path, target.path
        languages = (source.language, target.language)
        names = name_parts(source.name) | name_parts(target.name)
        ratio = source.mean_tokens / max(target.mean_tokens, 1)
        if self.wishes.task:
            task, why = self.wishes.task, "--task"
        elif languages[0] != languages[1]:
            task, why = (
                "seq2seq",
                f"'{source.path}' ({languages[0]}) is translated into '{target.path}' ({languages[1]})",
            )
        elif ratio >= 2.5:
            task, why = "seq2seq", f"'{target.path}' is {ratio:.1f}x shorter than '{source.path}': a summary"
        else:
            task = "causal_lm"
            why = f"'{source.path}' is answered by '{target.path}' (same language, no label)"
        other = "causal_lm (an instruction and its response)" if task == "seq2seq" else "seq2seq"
        plan.task = Choice(task, why, other)
        plan.prompt = seq2seq_prompt(*languages) if task == "seq2seq" else None
        plan.text = Choice(source.path, "the input text", texts[2].path if len(texts) > 2 else None)
        plan.label = Choice(target.path, "the text to produce")
        plan.split_reason = "at random (the target is text)"
        self.role(source.path, "the input text")
        self.role(target.path, "the text to produce")
        if candidates:
            self.role(candidates[0].path, f"not used: could be a label ({candidates[0].reason})")
        if task == "causal_lm" and not names & (_INSTRUCTION | _RESPONSE):
            plan.warnings.append(
                "two same-language texts without a label: read as instruction -> response. If the "
                "second text answers the first from a fixed set (an FAQ), build pairs with "
                "`tunesmith negatives` and use task.type: matching."
            )

    def _direction(self, first: Column, second: Column) -> tuple[Column, Column]:
        """Instruction before response; the longer text is summarised into the shorter one;
        otherwise the file's order (source first)."""
        if name_parts(second.name) & _INSTRUCTION and name_parts(first.name) & _RESPONSE:
            return second, first
        longer = first.language == second.language and second.mean_tokens >= 2.5 * first.mean_tokens
        if longer and not name_parts(first.name) & _INSTRUCTION:
            return second, first
        return (first, second) if first.order < second.order else (second, first)

    def _no_label_message(self, texts: list[Column]) -> str:
        path = self.sample.path
        if self.sample.formats and set(self.sample.formats) == {"lines"}:
            return (
                f"{path}: one text per line and no label. To classify texts, put one file per label "
                f"in a folder (neg.txt, pos.txt) and run `tunesmith init FOLDER`: the file name is "
                f"the label."
            )
        found = ", ".join(f"{c.path} ({c.kind})" for c in self.columns)
        return (
            f"{path}: no field looks like a label (2 to 500 repeated values, lists of names, or a "
            f"number named like a target), and not two texts to map one onto the other. Fields: "
            f"{found}. Name the label with --label FIELD."
        )

    # -- labelled ------------------------------------------------------------------------------

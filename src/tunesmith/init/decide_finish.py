"""The decisions every task ends with: the model inputs, the length, leakage the split would let
through, and the model that fits the task and language."""

from __future__ import annotations

from tunesmith.data.dedup import find_duplicates
from tunesmith.data.fields import render_template, template_fields
from tunesmith.data.language import detect_language
from tunesmith.data.split import assign_splits
from tunesmith.init.choices import Choice, estimate_tokens, get_value, length_for, plain_text, text_at
from tunesmith.init.planner_state import PlannerState
from tunesmith.init.roles import (
    group_column,
    personal_policy,
)
from tunesmith.models.resolve import default_model_for
from tunesmith.recipe import CAUSAL_LM_DEFAULT, SEQ2SEQ_DEFAULT


class FinishingDecisions(PlannerState):
    def _finish(self) -> None:
        plan = self.plan
        used = {plan.label_field, plan.pair_field, *(plan.leaks)}
        used |= {plan.text_field} if isinstance(plan.text_field, str) else set(plan.text_field or [])
        group = group_column(self.columns, {p for p in used if p})
        if group is not None and plan.task.value not in ("seq2seq", "causal_lm"):
            plan.split_method, plan.group_field = "group", group.path
            size = group.present / max(group.distinct, 1)
            plan.split_reason = (
                f"'{group.path}' comes in runs ({group.distinct} values, ~{size:.0f} records each): whole "
                f"groups per split, so test holds unseen {group.name}s"
            )
            self.role(group.path, "the group: each value's records stay in one split")
        times = [c for c in self.columns if c.kind == "datetime" and c.path not in used and not c.personal]
        if times and plan.task.value == "tabular":
            plan.time_field = times[-1].path if times[-1].numeric else times[0].path
        for column in self.columns:
            if column.personal:
                policy = personal_policy(column)
                plan.pii_columns[column.path] = policy
                self.role(column.path, f"personal ({column.personal}): {policy}")
        for column in self.columns:
            default = {
                "id": f"an id, not used: {column.reason}",
                "constant": f"not used: {column.reason}",
                "empty": "not used: empty",
            }.get(column.kind, f"not used ({column.kind}: {column.reason})")
            self.role(column.path, default)
        values = [v for v in self._model_inputs(values_only=True) if v is not None]
        plan.language = detect_language(values) if values else "en"  # not the template's own words
        inputs = self._model_inputs()
        self._model([text for text in inputs if text is not None])
        self._time_limit([text for text in inputs if text is not None])
        self._foresee_leakage(inputs)

    def _time_limit(self, inputs: list[str]) -> None:
        """The learners' time limit and what it buys here; none where trees alone train."""
        plan = self.plan
        if plan.tabular_model == "trees":
            return
        from tunesmith.init.time_budget import default_budget
        from tunesmith.models.catalog import catalog_entry

        entry = catalog_entry(plan.model.value)
        generates = plan.task.value in ("seq2seq", "causal_lm")
        # an encoder only looks its word embeddings up; a decoder also multiplies by them to write
        parameters = (
            (entry.parameters if generates else entry.parameters - entry.embedding_parameters)
            if entry
            else None
        )
        mean_tokens = sum(estimate_tokens(t) for t in inputs) / max(len(inputs), 1)
        if generates and plan.max_target_length:
            mean_tokens += plan.max_target_length / 2
        fast = plan.task.value in ("classification", "multilabel", "regression", "matching", "tabular")
        found = default_budget(plan.rows, min(mean_tokens, plan.max_length), parameters, generates, fast)
        plan.time_limit, plan.time_reason = found.text, found.reason
        plan.student = found.student_fits and plan.task.value in (
            "classification",
            "multilabel",
            "regression",
        )

    def _foresee_leakage(self, inputs: list[str | None]) -> None:
        """Split the sample as prepare will and count the held-out records that (nearly) copy a
        training one: prepare removes them as leakage, and a run whose splits collapse stops."""
        plan = self.plan
        if plan.split_method != "stratified" or len(inputs) < 50:
            return
        rendered = [
            (r, text) for r, text in zip(self.sample.records, inputs, strict=False) if text is not None
        ]
        strata = [str(get_value(r, plan.label_field) if plan.label_field else "") for r, _ in rendered]
        splits = assign_splits(strata, 0.1, 0.1, seed=42)
        found = find_duplicates([t for _, t in rendered], splits, [str(i) for i in range(len(rendered))])
        held_out = sum(s != "train" for s in splits)
        leaked = sum(splits[i] != "train" for i in found.remove)
        if held_out and leaked > 0.3 * held_out:
            plan.warnings.append(
                f"{leaked} of {held_out} held-out records in the sample copy (or nearly copy) a training "
                "record: prepare removes them as leakage, and the run stops if too few remain - the "
                "records may be variants of each other"
            )

    def _model_inputs(self, values_only: bool = False) -> list[str | None]:
        """The texts the model will read, rendered from the first 500 sampled records as prepare
        will (None for a record prepare would reject for a missing field)."""
        plan = self.plan
        separator = plan.list_separator or "; "
        out: list[str | None] = []
        for record in self.sample.records[:500]:
            parts: list[str] = []
            try:
                if plan.text_template:
                    template = plan.text_template
                    if values_only:
                        template = " ".join(f"{{{f}?}}" for f in template_fields(template))
                    parts.append(render_template(template, record, separator))
                else:
                    fields = (
                        [plan.text_field] if isinstance(plan.text_field, str) else list(plan.text_field or [])
                    )
                    generated = plan.task.value in ("seq2seq", "causal_lm")
                    for extra in (plan.pair_field, plan.label_field if generated else None):
                        if extra:
                            fields.append(extra)
                    for name in fields:
                        value = get_value(record, name)
                        if value is not None:
                            parts.append(plain_text(str(value), plan.ner_format))
            except KeyError:
                out.append(None)
                continue
            out.append(" ".join(parts))
        return out

    def _model(self, inputs: list[str]) -> None:
        plan = self.plan
        task = plan.task.value
        if task == "seq2seq":
            plan.model = Choice(
                SEQ2SEQ_DEFAULT,
                "the packaged multilingual decoder (140 languages): reads the source as a prompt and "
                "writes the target; no encoder-decoder translation model installs offline",
            )
        elif task == "causal_lm":
            plan.model = Choice(CAUSAL_LM_DEFAULT, "the packaged chat model for instruction tuning")
            if plan.language != "en":
                plan.warnings.append(
                    f"the packaged chat model (SmolLM2) writes English; for {plan.language} text point "
                    "model.name at a local chat model that reads it (e.g. a Qwen2.5 folder)."
                )
        else:
            name = default_model_for(plan.language)
            why = (
                "small and fast, reads English"
                if plan.language == "en"
                else "reads Chinese (the English model reads every hanzi as [UNK])"
            )
            plan.model = Choice(name, why)
        if task in ("seq2seq", "causal_lm"):
            sources = [text_at(r, plan.text_field) for r in self.sample.records]
            targets = [text_at(r, plan.label_field) for r in self.sample.records]
            plan.max_length = length_for([s for s in sources if s])
            if plan.prompt:  # the decoder reads the source inside its prompt
                plan.max_length += estimate_tokens(plan.prompt.replace("{text}", "")) + 1
            plan.max_target_length = length_for([t for t in targets if t])
        elif task == "extractive_qa":
            plan.max_length = max(length_for(inputs), 256)
        else:
            plan.max_length = length_for(inputs)

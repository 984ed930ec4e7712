"""The whole recipe: every section together, and the checks that span sections."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from tunesmith.recipe.base import CAUSAL_LM_DEFAULT, SEQ2SEQ_DEFAULT, Section
from tunesmith.recipe.data import DataSection, PrepareSection, SplitSection
from tunesmith.recipe.delivery import ExportSection, OutputSection, ServeSection
from tunesmith.recipe.evaluation import EvaluationSection, parse_condition
from tunesmith.recipe.model import ModelSection, TaskSection
from tunesmith.recipe.training import TrainingSection, TuneSection


class Recipe(Section):
    """A whole recipe. Relative data paths are resolved against the recipe's folder."""

    name: str = "run"
    seed: int = Field(42, description="Drives splits, data order, initialisation and dropout.")
    data: DataSection
    prepare: PrepareSection = PrepareSection()
    split: SplitSection = SplitSection()
    model: ModelSection = ModelSection()
    task: TaskSection = TaskSection()
    training: TrainingSection = TrainingSection()
    tune: TuneSection = TuneSection()
    evaluation: EvaluationSection = EvaluationSection()
    gates: dict[str, str] = Field(
        default_factory=dict,
        description='Release gates on the test metrics, e.g. {macro_f1: ">= 0.85"}: a run that misses '
        "one is marked not releasable and `run`/`evaluate` exit with code 3.",
    )
    export: ExportSection = ExportSection()
    serve: ServeSection = ServeSection()
    output: OutputSection = OutputSection()

    @field_validator("gates")
    @classmethod
    def _gate_conditions(cls, gates: dict[str, str]) -> dict[str, str]:
        for name, condition in gates.items():
            try:
                parse_condition(condition)
            except ValueError as error:
                raise ValueError(f"gate '{name}': {error}") from None
        return gates

    @model_validator(mode="after")
    def _hash_split_has_a_key(self) -> Recipe:
        if self.split.method == "hash" and not (self.data.id_field or self.split.group_field):
            raise ValueError("split.method 'hash' needs data.id_field (or split.group_field)")
        return self

    @model_validator(mode="after")
    def _generative_default_model(self) -> Recipe:
        """A generating task needs a generator unless the recipe names a model: causal_lm the
        packaged chat model (SmolLM2), seq2seq the packaged multilingual decoder (Gemma 3)."""
        default = {"causal_lm": CAUSAL_LM_DEFAULT, "seq2seq": SEQ2SEQ_DEFAULT}.get(self.task.type)
        if default and "name" not in self.model.model_fields_set:
            self.model = self.model.model_copy(update={"name": default})
        return self

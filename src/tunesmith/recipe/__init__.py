"""The recipe: one YAML file, validated here, that drives every stage.

This schema is the only place defaults live, one module per group of sections (`data`, `model`,
`training`, `evaluation`, `delivery`), joined in `schema.Recipe`. `io.load` reads a file, applies
`--set a.b=c` overrides and validates; `io.dump` writes the resolved recipe into a run folder.
"""

from tunesmith.recipe.base import AUTO, CAUSAL_LM_DEFAULT, RECIPE_FILE, SEQ2SEQ_DEFAULT, Section
from tunesmith.recipe.data import (
    COLUMN_POLICIES,
    PII_TYPES,
    CleanSection,
    DataSection,
    DedupSection,
    PiiSection,
    PrepareSection,
    SplitSection,
)
from tunesmith.recipe.delivery import (
    EXPORT_FORMATS,
    ExportSection,
    Int8Section,
    OutputSection,
    ServeSection,
)
from tunesmith.recipe.evaluation import EvaluationSection, Expectation, parse_condition
from tunesmith.recipe.io import (
    apply_overrides,
    dump,
    format_validation_error,
    load,
    load_resolved,
    parse_override,
    read_yaml,
    resolve_paths,
    set_path,
    validate,
)
from tunesmith.recipe.model import TASK_TYPES, HeadSection, LoraSection, ModelSection, TaskSection
from tunesmith.recipe.schema import Recipe
from tunesmith.recipe.training import TUNABLE_SECTIONS, TrainingSection, TuneRange, TuneSection

__all__ = [
    "AUTO",
    "CAUSAL_LM_DEFAULT",
    "COLUMN_POLICIES",
    "EXPORT_FORMATS",
    "PII_TYPES",
    "RECIPE_FILE",
    "SEQ2SEQ_DEFAULT",
    "TASK_TYPES",
    "TUNABLE_SECTIONS",
    "CleanSection",
    "DataSection",
    "DedupSection",
    "EvaluationSection",
    "Expectation",
    "ExportSection",
    "HeadSection",
    "Int8Section",
    "LoraSection",
    "ModelSection",
    "OutputSection",
    "PiiSection",
    "PrepareSection",
    "Recipe",
    "Section",
    "ServeSection",
    "SplitSection",
    "TaskSection",
    "TrainingSection",
    "TuneRange",
    "TuneSection",
    "apply_overrides",
    "dump",
    "format_validation_error",
    "load",
    "load_resolved",
    "parse_condition",
    "parse_override",
    "read_yaml",
    "resolve_paths",
    "set_path",
    "validate",
]

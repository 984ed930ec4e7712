"""What leaves the run: `export` (formats, int8), `serve` (the service's defaults), `output`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from tunesmith.recipe.base import Section

EXPORT_FORMATS = ("onnx", "onnx-int8", "torchscript")


class Int8Section(Section):
    min_agreement: float | None = Field(
        None,
        ge=0,
        le=1,
        description="The int8 model's own agreement target, in place of export.agreement (null: "
        "export.agreement); layers are kept in fp32, most sensitive first, until it is met.",
    )
    per_channel: bool = Field(True, description="One scale per output channel of each weight.")


class ExportSection(Section):
    """What `tunesmith run` exports at its end (also `tunesmith export RUN --format ...`)."""

    formats: list[Literal[EXPORT_FORMATS]] = Field(  # type: ignore[valid-type]
        default_factory=list,
        description="Exports written and proven against the trained model: onnx, onnx-int8, "
        "torchscript ([]: none). Serving then uses the fastest that passed (--backend auto).",
    )
    optimize: bool = Field(
        True, description="onnxruntime's transformer fusions (attention, LayerNorm, GELU) where parity holds."
    )
    tolerance: float = Field(
        1e-4, gt=0, description="Largest absolute difference of an fp32 export's outputs from PyTorch's."
    )
    agreement: float = Field(
        0.98,
        ge=0,
        le=1,
        description="A faster variant (int8) answers in the trained model's place only when at least "
        "this share of its validation answers are the trained model's, and its headline metric is not "
        "worse beyond noise (see metric_margin). 0.995 keeps int8 to near-identical answers.",
    )
    metric_margin: float = Field(
        0.5,
        ge=0,
        description="Points (0-100; for RMSE or MAE, percent of the trained model's) the 95% paired "
        "bootstrap interval of a variant's validation headline metric may reach below the trained "
        "model's.",
    )
    student: Literal["off", "auto"] | int = Field(
        "off",
        description="A distilled student as a serving candidate: auto keeps half the transformer's "
        "layers, a number that many; it serves where it holds by the quality rule and is faster.",
    )
    int8: Int8Section = Int8Section()

    @field_validator("student", mode="before")
    @classmethod
    def _yaml_switch(cls, value: object) -> object:
        """YAML reads an unquoted off/on (no/yes) as a boolean: they mean off and auto here."""
        if isinstance(value, bool):
            return "auto" if value else "off"
        if isinstance(value, int) and value < 1:
            raise ValueError("a student keeps at least 1 layer (or: off, auto)")
        return value


class ServeSection(Section):
    """How `tunesmith serve` batches and bounds the work (each is also a flag of the command)."""

    max_batch_size: int = Field(32, ge=1, description="Most texts in one model call.")
    max_wait_ms: float = Field(
        0.0,
        ge=0,
        description="Longest a text waits for its batch to fill (0: the model never idles; the texts "
        "that arrive while it runs form the next batch).",
    )
    buckets: bool = Field(
        True,
        description="Cut a batch into model calls of texts of like length, where padding the short "
        "ones to the longest would cost more than another call.",
    )
    max_queue: int = Field(512, ge=1, description="Texts waiting at most; beyond it the server answers 503.")
    timeout_s: float = Field(
        10.0, gt=0, description="Deadline of a request; beyond it the server answers 504."
    )
    max_texts: int = Field(64, ge=1, description="Most texts in one request (413 beyond).")
    long_inputs: Literal["truncate", "refuse"] = Field(
        "truncate",
        description="A request text longer than model.max_length tokens: truncate - the model reads its "
        "first max_length tokens (as in training); refuse - the server answers 422 with the lengths.",
    )
    answer_threshold: float | None = Field(
        None,
        description="POST /v1/answer hands over to a person below this top score (default: the "
        "threshold tuned on validation and stored with the run).",
    )
    handover_message: str = Field(
        "这个问题我转给人工客服为您解答,请稍候。 A colleague will answer this question shortly.",
        description="What POST /v1/answer says when it hands a question over.",
    )
    safety_list: str | None = Field(
        None, description="YAML of blocked terms and topics and the refusal (default: the packaged list)."
    )
    rewriter: str | None = Field(
        None, description="A causal_lm run that rewrites knowledge-base answers in the conversation's tone."
    )


class OutputSection(Section):
    dir: str | None = Field(None, description="Run folder; default runs/<recipe name>.")

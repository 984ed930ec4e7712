"""Request and response bodies of the HTTP API (they also make the OpenAPI docs)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, model_validator


class PredictRequest(BaseModel):
    """Send `text` for one answer or `texts` for a batch; a tabular run takes `record` (one row,
    its columns by name) or `records`. One of the four."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "如何重置密码?"},
                {"texts": ["物流太慢了!", "很好"]},
                {"record": {"type": "TRANSFER", "amount": 8000.5, "hour": 2}},
            ]
        },
    )
    text: StrictStr | None = Field(None, description="One text.")
    texts: list[StrictStr] | None = Field(None, description="Several texts.")
    text_pair: StrictStr | None = Field(
        None, description="Second text with `text`: the context (QA) or a candidate answer (matching)."
    )
    text_pairs: list[StrictStr | None] | None = Field(
        None, description="Second texts, one per item of `texts` (null: none for that text)."
    )
    record: dict[str, Any] | None = Field(None, description="Tabular runs: one row, its columns by name.")
    records: list[dict[str, Any]] | None = Field(None, description="Tabular runs: several rows.")
    version: StrictStr | None = Field(None, description="Ask for this model version (default: routed).")

    @model_validator(mode="after")
    def _one_of(self) -> PredictRequest:
        given = [name for name in ("text", "texts", "record", "records") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("send exactly one of 'text', 'texts' or (a tabular run) 'record', 'records'")
        if self.records is not None:
            if not self.records or not all(self.records):
                raise ValueError("'records' must be a list of rows, each with its columns")
            return self
        if self.record is not None:
            if not self.record:
                raise ValueError("'record' must hold the row's columns")
            return self
        for value in [self.text] if self.text is not None else self.texts or []:
            if not value.strip():
                raise ValueError("texts must not be empty or only whitespace")
        if self.texts is not None and not self.texts:
            raise ValueError("'texts' is an empty list")
        if self.text_pair is not None and self.text is None:
            raise ValueError("'text_pair' goes with 'text'; with 'texts' send 'text_pairs'")
        if self.text_pairs is not None and len(self.text_pairs) != len(self.texts or []):
            raise ValueError("'text_pairs' needs one item per item of 'texts'")
        return self

    def all_examples(self) -> list[dict[str, Any]]:
        if self.record is not None or self.records is not None:
            return [
                {"record": row} for row in ([self.record] if self.record is not None else self.records or [])
            ]
        texts = [self.text] if self.text is not None else list(self.texts or [])
        pairs = [self.text_pair] if self.text is not None else list(self.text_pairs or [None] * len(texts))
        return [
            {"text": t} if p is None else {"text": t, "text_pair": p}
            for t, p in zip(texts, pairs, strict=True)
        ]


class PredictResponse(BaseModel):
    model: str
    version: str = Field(description="The version that answered.")
    request_id: str = Field(description="Send it with the outcome to POST /v1/feedback.")
    predictions: list[dict[str, Any]] = Field(
        description="One answer per text, shaped by the task: classification gives label, score and "
        "probabilities; regression gives value; token_classification gives entities; extractive_qa "
        "an answer span; matching a score (with text_pair) or the top answers; seq2seq and causal_lm "
        "generated text.",
        examples=[[{"label": "refund", "score": 0.93, "probabilities": {"refund": 0.93, "other": 0.07}}]],
    )


class ErrorResponse(BaseModel):
    error: str
    details: list[str] = []


class FeedbackRequest(BaseModel):
    """The outcome of an answer, for the online A/B test (`tunesmith ab-test` reads the log)."""

    model_config = ConfigDict(extra="forbid")
    request_id: StrictStr = Field(description="The request_id of the answer.")
    outcome: Literal[0, 1] | StrictBool = Field(description="1 or true: the answer helped; 0 or false: not.")


class Turn(BaseModel):
    role: Literal["user", "assistant", "agent", "system"]
    content: StrictStr


class AnswerRequest(BaseModel):
    """A customer's question, and optionally the conversation so far (for the rewriter's tone)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"question": "密码忘了怎么办?"}]}
    )
    question: StrictStr = Field(min_length=1, max_length=4000)
    conversation: list[Turn] = Field(default_factory=list, max_length=50)
    top_k: int | None = Field(None, ge=1, le=100, description="Candidates returned (default: top_k).")
    version: StrictStr | None = Field(None, description="Ask for this model version (default: routed).")

    @model_validator(mode="after")
    def _not_blank(self) -> AnswerRequest:
        if not self.question.strip():
            raise ValueError("'question' must not be empty or only whitespace")
        return self


class Candidate(BaseModel):
    answer: str
    score: float
    refused: bool = Field(description="The safety filter refused this candidate's text.")


class Filtered(BaseModel):
    stage: Literal["question", "answer", "rewrite"]
    action: Literal["refused", "redacted", "discarded"]
    reasons: list[str]


class AnswerResponse(BaseModel):
    model: str
    version: str
    request_id: str = Field(description="Send it with the outcome to POST /v1/feedback.")
    status: Literal["answered", "handed_over", "refused"] = Field(
        description="answered: the knowledge base's answer; handed_over: below the confidence "
        "threshold, a person takes over; refused: the safety filter blocked the question or answer."
    )
    answer: str = Field(description="What to send the customer (filtered), or the hand-over/refusal message.")
    confidence: float | None = Field(description="The top answer's score.")
    threshold: float | None = Field(description="The hand-over threshold (tuned on validation).")
    candidates: list[Candidate]
    rewritten: bool
    filtered: list[Filtered] = Field(description="What the safety filter or grounding check changed.")

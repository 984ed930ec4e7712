"""POST /v1/answer: a customer's question -> the knowledge base's answer, or a hand-over to a person.

A matching run searches its knowledge base (the answers of its FAQ pairs, stored in the bundle).
When the top score is below the run's hand-over threshold (tuned on validation at training, see
`matching.handover_threshold`) the customer gets the hand-over message instead of a guess. A
causal-LM run (`--rewriter`) may rewrite the chosen answer in the conversation's tone; a rewrite
that brings a number or most of its words from outside the retrieved answer is not grounded and the
retrieved answer goes out as it is. The question is checked by the safety filter before any model
sees it, and every outgoing text (answer and candidates) after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tunesmith.serve.safety import SafetyFilter
from tunesmith.serve.service import ServeError, Service
from tunesmith.serve.versions import Version

_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_WORD = re.compile(r"[\u3400-\u9fff]|[^\W\d_]+", re.UNICODE)
GROUNDED_SHARE = 0.6  # of the rewrite's words that must come from the retrieved answer


@dataclass
class Reply:
    status: str  # answered | handed_over | refused
    answer: str
    confidence: float | None = None
    threshold: float | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    rewritten: bool = False
    filtered: list[dict[str, Any]] = field(default_factory=list)


def grounded(rewrite: str, source: str) -> str | None:
    """Why `rewrite` is not grounded on `source` (None: it is): a number not in the source, or
    fewer than GROUNDED_SHARE of its words (Chinese: characters) from the source."""
    missing = [n for n in _NUMBER.findall(rewrite) if n not in source]
    if missing:
        return f"numbers not in the answer: {', '.join(missing[:3])}"
    words = [w.casefold() for w in _WORD.findall(rewrite)]
    if not words:
        return "the rewrite is empty"
    known = {w.casefold() for w in _WORD.findall(source)}
    share = sum(w in known for w in words) / len(words)
    if share < GROUNDED_SHARE:
        return f"only {share:.0%} of its words come from the answer"
    return None


def rewrite_prompt(answer: str, conversation: list[dict[str, str]]) -> str:
    turns = "\n".join(f"{t['role']}: {t['content']}" for t in conversation[-6:])
    return (
        "Rewrite the answer for the customer in the tone of the conversation. Keep every fact of "
        f"the answer and add none.\nConversation:\n{turns}\nAnswer: {answer}"
    )


def threshold_of(service: Service, version: Version) -> float | None:
    if service.settings.answer_threshold is not None:
        return service.settings.answer_threshold
    state = version.predictor.state if version.predictor else None
    return (state or {}).get("answer_threshold")


def check_answerable(version: Version) -> None:
    predictor = version.predictor
    assert predictor is not None
    if predictor.task.type != "matching":
        raise ServeError(
            400,
            f"version {version.name} is a {predictor.task.type} model; /v1/answer needs a matching "
            "run over FAQ pairs",
            ["train one with task.type: matching (matching_mode: bi searches fastest)"],
        )
    if not predictor.task.knowledge_base(predictor):  # type: ignore[attr-defined]
        raise ServeError(
            409,
            f"the knowledge base of version {version.name} is empty",
            ["its data had no positive (label 1) question-answer pair; add FAQ pairs, train again"],
        )


async def answer_question(
    service: Service,
    version: Version,
    question: str,
    conversation: list[dict[str, str]],
    top_k: int | None,
) -> tuple[str, Reply]:
    """(request id, reply) for one question, filtered both ways and logged."""
    safety: SafetyFilter = service.safety
    check_answerable(version)
    asked = safety.check(question)
    if asked.refused:
        request_id = service.log.new_id(version.name)
        safety.log(request_id, version.name, "question", asked)
        service.log.answer(
            {"request_id": request_id, "version": version.name, "route": "/v1/answer", "status": "refused"}
        )
        return request_id, Reply("refused", asked.text, filtered=[_filtered("question", asked)])
    result = await service.answer(version, "predict", [{"text": question}], "/v1/answer", [question])
    ranked = result.results[0][0]["answers"][: top_k or None]
    threshold = threshold_of(service, version)
    top = ranked[0]  # check_answerable refused an empty knowledge base
    reply = Reply("answered", "", top["score"], threshold)
    checks = [safety.check(candidate["answer"]) for candidate in ranked]
    reply.candidates = [
        {"answer": checked.text, "score": candidate["score"], "refused": checked.refused}
        for candidate, checked in zip(ranked, checks, strict=True)
    ]
    if threshold is not None and top["score"] < threshold:
        reply.status, reply.answer = "handed_over", service.settings.handover_message
        return result.request_id, reply
    turns = [*conversation, {"role": "user", "content": question}]
    rewritten, why = await _rewrite(service, top["answer"], turns)
    if why:
        reply.filtered.append({"stage": "rewrite", "action": "discarded", "reasons": [why]})
    reply.rewritten = rewritten is not None
    sent = checks[0] if rewritten is None else safety.check(rewritten)  # the top answer: checked above
    safety.log(result.request_id, version.name, "answer", sent)
    if sent.refused or sent.redacted:
        reply.filtered.append(_filtered("answer", sent))
    reply.answer = sent.text
    if sent.refused:
        reply.status = "refused"
    return result.request_id, reply


async def _rewrite(
    service: Service, answer: str, conversation: list[dict[str, str]]
) -> tuple[str | None, str]:
    """(the grounded rewrite, "") or (None, why not); (None, "") without a rewriter."""
    helper = service.versions.rewriter
    if helper is None:
        return None, ""
    if helper.state != "ready" or helper.predictor is None:
        return None, f"the rewriter is {helper.state}" + (f": {helper.reason}" if helper.reason else "")
    if helper.predictor.task.type != "causal_lm":
        return None, f"the rewriter is a {helper.predictor.task.type} run, not causal_lm"
    results = await service.run(helper, "predict", [{"text": rewrite_prompt(answer, conversation)}])
    rewrite = str(results[0][0].get("text", "")).strip()
    why = grounded(rewrite, answer)
    return (None, f"rewrite not grounded: {why}") if why else (rewrite, "")


def _filtered(stage: str, verdict: Any) -> dict[str, Any]:
    action = "refused" if verdict.refused else "redacted"
    return {"stage": stage, "action": action, "reasons": verdict.reasons()}

"""POST /v1/answer: the knowledge base's answer to a customer's question, behind the safety filter."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from tunesmith.serve.knowledge import answer_question
from tunesmith.serve.routes.common import VERSION_HEADER, authorized, note, service_of, sticky_of
from tunesmith.serve.routes.v1 import ERRORS
from tunesmith.serve.schemas import AnswerRequest, AnswerResponse

router = APIRouter()


@router.post("/v1/answer", response_model=AnswerResponse, responses=ERRORS)
async def answer(body: AnswerRequest, request: Request) -> Any:
    """The best knowledge-base answers of a matching run; below the hand-over threshold, a hand-over
    to a person instead of a guess. Questions and answers pass the safety filter (personal data
    redacted, blocked topics refused), and what it did is in `filtered` and the server's safety log."""
    authorized(request, "predict")
    service = service_of(request)
    version = service.version_for(sticky_of(request), body.version or request.headers.get(VERSION_HEADER))
    conversation = [t.model_dump() for t in body.conversation]
    request_id, reply = await answer_question(service, version, body.question, conversation, body.top_k)
    note(request, version=version.name, request_id=request_id, texts=1)
    service.metrics.answers.labels(version.name, reply.status).inc()
    for change in reply.filtered:
        service.metrics.filtered.labels(change["stage"], change["action"]).inc()
    assert version.predictor is not None
    content = {"model": version.predictor.recipe.name, "version": version.name, "request_id": request_id}
    content |= asdict(reply)
    return JSONResponse(content, headers={"X-Model-Version": version.name, "X-Request-Id": request_id})

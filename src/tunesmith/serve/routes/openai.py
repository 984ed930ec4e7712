"""OpenAI-compatible routes, so existing OpenAI clients and tools can call a tunesmith model:
POST /v1/embeddings (bi-encoder matching runs) and POST /v1/chat/completions (runs that generate
text: causal_lm, seq2seq; `stream: true` sends server-sent events as tokens are generated). The
last user message is the input: an instruction for a causal-LM run (trained on single-turn
instructions), the text to translate or summarise for a seq2seq run."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field, StrictStr

from tunesmith.serve.routes.common import VERSION_HEADER, authorized, note, service_of, sticky_of
from tunesmith.serve.service import ServeError
from tunesmith.serve.streaming import stream_answer, streams
from tunesmith.tasks.generation import tidy_generated

router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])


class EmbeddingsRequest(BaseModel):
    input: StrictStr | list[StrictStr] = Field(description="A text or a list of texts.")
    model: str | None = Field(None, description="A version name, or the model's name.")
    encoding_format: Literal["float"] = "float"


class Message(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: StrictStr


class ChatRequest(BaseModel):
    model: str | None = None
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1, le=4096)
    max_completion_tokens: int | None = Field(None, ge=1, le=4096)


def _pinned(request: Request, model: str | None) -> str | None:
    service = service_of(request)
    if model and model in service.versions.served:
        return model
    return request.headers.get(VERSION_HEADER)


@router.post("/embeddings")
async def embeddings(body: EmbeddingsRequest, request: Request) -> Any:
    authorized(request, "predict")
    texts = [body.input] if isinstance(body.input, str) else list(body.input)
    if not texts or not all(t.strip() for t in texts):
        raise ServeError(422, "invalid request", ["input: texts must not be empty"])
    service = service_of(request)
    version = service.version_for(sticky_of(request), _pinned(request, body.model))
    answer = await service.answer(version, "embed", texts, "/v1/embeddings", texts)
    note(request, version=answer.version, request_id=answer.request_id, texts=len(texts))
    tokens = sum(len(t) for t in texts)
    content = {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(answer.results)],
        "model": answer.version,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return JSONResponse(
        content, headers={"X-Model-Version": answer.version, "X-Request-Id": answer.request_id}
    )


def _chunk(request_id: str, version: str, created: int, delta: dict[str, Any], finish: str | None) -> str:
    body = {
        "id": request_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": version,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def _completion(request_id: str, version: str, created: int, text: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": text}
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": created,
        "model": version,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
    }


@router.post("/chat/completions")
async def chat_completions(body: ChatRequest, request: Request) -> Any:
    authorized(request, "predict")
    users = [m.content for m in body.messages if m.role == "user"]
    if not users or not users[-1].strip():
        raise ServeError(422, "invalid request", ["messages: needs a user message with content"])
    service = service_of(request)
    version = service.version_for(sticky_of(request), _pinned(request, body.model))
    predictor = version.predictor
    if not streams(predictor):
        task = predictor.task.type if predictor else "?"
        raise ServeError(
            400,
            f"version {version.name} is a {task} model; chat completions need a run that generates "
            "text (causal_lm, seq2seq)",
        )
    assert predictor is not None
    instruction = users[-1]
    limit = body.max_completion_tokens or body.max_tokens
    created = int(time.time())
    if not body.stream and limit is not None:  # a length of its own: generated alone, not batched
        request_id = service.log.new_id(version.name)
        note(request, version=version.name, request_id=request_id, texts=1)
        text = tidy_generated(
            "".join([piece async for piece in stream_answer(predictor, instruction, limit)])
        )
        service.log.answer(
            {"request_id": request_id, "version": version.name, "route": "/v1/chat/completions"}
        )
        return _completion(request_id, version.name, created, text)
    if not body.stream:
        answer = await service.answer(
            version, "predict", [{"text": instruction}], "/v1/chat/completions", [instruction]
        )
        note(request, version=answer.version, request_id=answer.request_id, texts=1)
        return _completion(answer.request_id, answer.version, created, answer.results[0][0]["text"])
    request_id = service.log.new_id(version.name)
    note(request, version=version.name, request_id=request_id, texts=1)

    async def events() -> AsyncIterator[str]:
        yield _chunk(request_id, version.name, created, {"role": "assistant"}, None)
        pieces = []
        async for piece in stream_answer(predictor, instruction, limit):
            pieces.append(piece)
            yield _chunk(request_id, version.name, created, {"content": piece}, None)
        yield _chunk(request_id, version.name, created, {}, "stop")
        yield "data: [DONE]\n\n"
        service.log.answer(
            {"request_id": request_id, "version": version.name, "route": "/v1/chat/completions"}
        )

    headers = {"X-Model-Version": version.name, "X-Request-Id": request_id, "Cache-Control": "no-cache"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)

"""WebSocket for real-time use at /v1/ws: send JSON messages {"id": ..., "text": ...} (or "texts",
"text_pair", "version"); each answer comes back as soon as it is ready, with the message's id:
{"id", "version", "request_id", "predictions"}. Messages are answered concurrently (they join the
same batches as HTTP requests). For a run that generates text (causal_lm, seq2seq), {"stream":
true} sends {"id", "token"} pieces as they are generated, then {"id", "done": true, "text"}. A bad
message gets {"id", "error", "status"} and the connection stays open."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from tunesmith.runtime.predict import example_text
from tunesmith.serve.routes.common import VERSION_HEADER, authorized, service_of, sticky_of
from tunesmith.serve.schemas import PredictRequest
from tunesmith.serve.service import ServeError, check_examples
from tunesmith.serve.streaming import stream_answer, streams
from tunesmith.tasks.generation import tidy_generated

router = APIRouter()


async def _answer(socket: WebSocket, message: dict[str, Any], send: Any) -> None:
    ident = message.pop("id", None)
    stream = bool(message.pop("stream", False))
    service = service_of(socket)
    try:
        body = PredictRequest.model_validate(message)
        pinned = body.version or socket.headers.get(VERSION_HEADER)
        version = service.version_for(sticky_of(socket), pinned)
        examples = body.all_examples()
        check_examples(examples, version)
        predictor = version.predictor
        if stream and streams(predictor):
            assert predictor is not None
            request_id = service.log.new_id(version.name)
            pieces = []
            async for piece in stream_answer(predictor, examples[0]["text"]):
                pieces.append(piece)
                await send({"id": ident, "token": piece})
            service.log.answer({"request_id": request_id, "version": version.name, "route": "/v1/ws"})
            await send(
                {
                    "id": ident,
                    "done": True,
                    "text": tidy_generated("".join(pieces)),
                    "version": version.name,
                    "request_id": request_id,
                }
            )
            return
        texts = [example_text(e) for e in examples]
        answer = await service.answer(version, "predict", examples, "/v1/ws", texts)
        await send(
            {
                "id": ident,
                "version": answer.version,
                "request_id": answer.request_id,
                "predictions": [r[0] for r in answer.results],
            }
        )
    except ValidationError as error:
        details = [f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors()]
        await send({"id": ident, "status": 422, "error": "invalid request", "details": details})
    except ServeError as error:
        await send({"id": ident, "status": error.status, "error": error.message, "details": error.details})


@router.websocket("/v1/ws")
async def websocket(socket: WebSocket) -> None:
    try:
        authorized(socket, "predict")
    except ServeError as error:
        await socket.close(
            code=4401 if error.status == 401 else 4403 if error.status == 403 else 4429, reason=error.message
        )
        return
    await socket.accept()
    lock = asyncio.Lock()
    pending: set[asyncio.Task[None]] = set()

    async def send(data: dict[str, Any]) -> None:
        async with lock:
            await socket.send_text(json.dumps(data, ensure_ascii=False))

    try:
        while True:
            raw = await socket.receive_text()
            try:
                message = json.loads(raw)
            except json.JSONDecodeError:
                await send({"id": None, "status": 400, "error": "the message is not valid JSON"})
                continue
            if not isinstance(message, dict):
                await send({"id": None, "status": 400, "error": "send a JSON object"})
                continue
            task = asyncio.create_task(_answer(socket, message, send))
            pending.add(task)
            task.add_done_callback(pending.discard)
    except WebSocketDisconnect:
        for task in pending:
            task.cancel()

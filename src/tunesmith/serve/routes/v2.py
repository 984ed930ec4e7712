"""The Open Inference Protocol (KServe V2) over HTTP, so the server runs as a KServe custom
runtime: health, server and model metadata, and infer with BYTES inputs `text` (and `text_pair`).

Outputs are built from the task's answers: string fields as BYTES, numbers as FP64, a dict of
numbers (probabilities) as an FP64 matrix over the labels, and every answer whole as JSON in the
BYTES output `answer`.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from tunesmith import __version__
from tunesmith.serve.routes.common import authorized, note, service_of, sticky_of
from tunesmith.serve.routes.v1 import open_or_authorized
from tunesmith.serve.service import ServeError, check_examples

router = APIRouter(prefix="/v2", tags=["Open Inference Protocol (KServe V2)"])


class InferInput(BaseModel):
    name: str
    shape: list[int]
    datatype: str
    data: list[Any]
    parameters: dict[str, Any] | None = None


class InferRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = None
    inputs: list[InferInput] = Field(min_length=1)
    parameters: dict[str, Any] | None = None


def _model_name(request: Request) -> str:
    return service_of(request).settings.model_name


def _check_name(request: Request, name: str) -> None:
    if name != _model_name(request):
        raise ServeError(404, f"no model named {name!r}", [f"this server serves {_model_name(request)!r}"])


@router.get("")
def server_metadata(request: Request) -> dict[str, Any]:
    open_or_authorized(request)
    return {"name": "tunesmith", "version": __version__, "extensions": []}


@router.get("/health/live")
def live(request: Request) -> dict[str, bool]:
    open_or_authorized(request)
    return {"live": True}


@router.get("/health/ready")
def ready(request: Request) -> Any:
    open_or_authorized(request)
    problems = service_of(request).versions.not_ready()
    if problems:
        return JSONResponse({"ready": False, "reasons": problems}, status_code=503)
    return {"ready": True}


@router.get("/models/{name}")
@router.get("/models/{name}/versions/{version}")
def model_metadata(name: str, request: Request, version: str | None = None) -> dict[str, Any]:
    authorized(request, "predict")
    _check_name(request, name)
    service = service_of(request)
    chosen = service.version_for(None, version)
    inputs = [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
    if chosen.predictor is not None and "text_pair" in chosen.predictor.task.inputs:
        inputs.append({"name": "text_pair", "datatype": "BYTES", "shape": [-1]})
    return {
        "name": name,
        "versions": list(service.versions.served),
        "platform": f"tunesmith-{chosen.predictor.backend if chosen.predictor else 'loading'}",
        "inputs": inputs,
        "outputs": [{"name": "answer", "datatype": "BYTES", "shape": [-1]}],
    }


@router.get("/models/{name}/ready")
def model_ready(name: str, request: Request) -> Any:
    open_or_authorized(request)
    _check_name(request, name)
    problems = service_of(request).versions.not_ready()
    return JSONResponse({"name": name, "ready": not problems}, status_code=503 if problems else 200)


def _texts(body: InferRequest, name: str) -> list[str] | None:
    for tensor in body.inputs:
        if tensor.name != name:
            continue
        if tensor.datatype != "BYTES":
            raise ServeError(400, f"input '{name}' must have datatype BYTES, not {tensor.datatype}")
        if len(tensor.shape) != 1 or tensor.shape[0] != len(tensor.data):
            raise ServeError(
                400, f"input '{name}': shape {tensor.shape} does not match {len(tensor.data)} items"
            )
        if not all(isinstance(t, str) for t in tensor.data):
            raise ServeError(400, f"input '{name}': every item must be a string")
        return list(tensor.data)
    return None


def outputs_of(predictions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    n = len(predictions)
    tensors = [
        {
            "name": "answer",
            "datatype": "BYTES",
            "shape": [n],
            "data": [json.dumps(p, ensure_ascii=False) for p in predictions],
        }
    ]
    first = predictions[0] if predictions else {}
    for key, value in first.items():
        column = [p.get(key) for p in predictions]
        if isinstance(value, str) and all(isinstance(v, str) for v in column):
            tensors.append({"name": key, "datatype": "BYTES", "shape": [n], "data": column})
        elif (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and all(isinstance(v, int | float) for v in column)
        ):
            tensors.append(
                {"name": key, "datatype": "FP64", "shape": [n], "data": [float(v) for v in column]}
            )
        elif (
            isinstance(value, dict)
            and value
            and all(isinstance(v, dict) and v.keys() == value.keys() for v in column)
        ) and all(isinstance(x, int | float) for v in column for x in v.values()):
            names = list(value)
            data = [float(v[k]) for v in column for k in names]
            tensors.append(
                {
                    "name": key,
                    "datatype": "FP64",
                    "shape": [n, len(names)],
                    "data": data,
                    "parameters": {"labels": names},
                }
            )
    return tensors


@router.post("/models/{name}/infer")
@router.post("/models/{name}/versions/{version}/infer")
async def infer(name: str, body: InferRequest, request: Request, version: str | None = None) -> Any:
    authorized(request, "predict")
    _check_name(request, name)
    texts = _texts(body, "text")
    if texts is None:
        raise ServeError(400, "no input named 'text'", ["send inputs: [{name: text, datatype: BYTES, ...}]"])
    pairs = _texts(body, "text_pair")
    if pairs is not None and len(pairs) != len(texts):
        raise ServeError(400, "input 'text_pair' needs one item per item of 'text'")
    examples = [
        {"text": t} if pairs is None else {"text": t, "text_pair": p}
        for t, p in zip(texts, pairs or texts, strict=True)
    ]
    service = service_of(request)
    chosen = service.version_for(sticky_of(request), version)
    check_examples(examples, chosen)
    answer = await service.answer(chosen, "predict", examples, f"/v2/models/{name}/infer", texts)
    note(request, version=answer.version, request_id=answer.request_id, texts=len(texts))
    content = {
        "model_name": name,
        "model_version": answer.version,
        "id": body.id or answer.request_id,
        "parameters": {"request_id": answer.request_id},
        "outputs": outputs_of([r[0] for r in answer.results]),
    }
    return JSONResponse(
        content, headers={"X-Model-Version": answer.version, "X-Request-Id": answer.request_id}
    )

"""Our own API: POST /v1/predict and POST /v1/feedback; health, readiness and metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from tunesmith.runtime.predict import example_text
from tunesmith.serve.routes.common import VERSION_HEADER, authorized, note, service_of, sticky_of
from tunesmith.serve.schemas import ErrorResponse, FeedbackRequest, PredictRequest, PredictResponse
from tunesmith.serve.service import check_examples

router = APIRouter()
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 413, 422, 429, 503, 504)
}


def open_or_authorized(request: Request) -> None:
    if not service_of(request).settings.open_health:
        authorized(request, "predict")


@router.get("/health")
def health(request: Request) -> dict[str, str]:
    """Liveness: the process answers."""
    open_or_authorized(request)
    return {"status": "ok"}


@router.get("/ready", responses={503: {"model": ErrorResponse}})
def ready(request: Request) -> Any:
    """Readiness: every version with traffic is loaded and verified; otherwise 503 and why."""
    open_or_authorized(request)
    service = service_of(request)
    versions = [v.describe() for v in service.versions.all()]
    problems = service.versions.not_ready()
    if problems:
        return JSONResponse(
            {"status": "not ready", "reasons": problems, "versions": versions}, status_code=503
        )
    first = next(iter(service.versions.served.values()))
    assert first.predictor is not None
    return {
        "status": "ready",
        "model": first.predictor.recipe.name,
        "labels": first.predictor.labels,
        "backend": first.predictor.backend,
        "versions": versions,
        "weights": service.versions.weights,
    }


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    open_or_authorized(request)
    service = service_of(request)
    return Response(service.metrics.render(), media_type=service.metrics.content_type)


@router.post("/v1/predict", response_model=PredictResponse, responses=ERRORS)
async def predict(body: PredictRequest, request: Request) -> Any:
    """Label and probabilities for `text`, or for each of `texts`. Header `X-Model-Version` (or
    field `version`) asks for one version; the answer names the version and its request id."""
    authorized(request, "predict")
    service = service_of(request)
    pinned = body.version or request.headers.get(VERSION_HEADER)
    examples = body.all_examples()
    version = service.version_for(sticky_of(request), pinned)
    check_examples(examples, version)
    texts = [example_text(e) for e in examples]
    answer = await service.answer(version, "predict", examples, "/v1/predict", texts)
    note(request, version=answer.version, request_id=answer.request_id, texts=len(examples))
    assert version.predictor is not None
    content = {
        "model": version.predictor.recipe.name,
        "version": answer.version,
        "request_id": answer.request_id,
        "predictions": [r[0] for r in answer.results],
    }
    headers = {"X-Model-Version": answer.version, "X-Request-Id": answer.request_id}
    return JSONResponse(content, headers=headers)


@router.post("/v1/feedback", responses=ERRORS)
def feedback(body: FeedbackRequest, request: Request) -> dict[str, Any]:
    """The outcome of an answer (1: it helped, 0: it did not), for `tunesmith ab-test`."""
    authorized(request, "predict")
    version = service_of(request).feedback(body.request_id, int(body.outcome))
    note(request, version=version, request_id=body.request_id)
    return {"recorded": True, "version": version, "request_id": body.request_id}

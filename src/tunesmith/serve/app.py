"""The FastAPI app: POST /v1/predict, GET /health, GET /ready, OpenAPI docs at /docs.

Bad input always gets a 4xx whose message says what is wrong; a 500 means a bug of ours.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from tunesmith import __version__
from tunesmith.predict import InvalidExample, Predictor
from tunesmith.serve.limits import BodySizeLimit
from tunesmith.serve.schemas import ErrorResponse, PredictRequest, PredictResponse

MAX_BODY_BYTES = 1 << 20


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}"


def create_app(
    run_dir: Path, max_batch: int = 64, max_body_bytes: int = MAX_BODY_BYTES, backend: str = "auto"
) -> Any:
    """Build the app for a finished run; refuses a bundle whose checksums do not match."""
    predictor = Predictor.from_run(run_dir, verify=True, backend=backend)
    name = predictor.recipe.name
    app = FastAPI(
        title=f"tunesmith: {name}",
        version=__version__,
        description=f"{predictor.recipe.task.type} model '{name}' with {len(predictor.labels)} labels.",
    )
    app.state.predictor = predictor

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            body = ErrorResponse(
                error="the request body is not valid JSON", details=[_describe(e) for e in errors]
            )
            return JSONResponse(body.model_dump(), status_code=400)
        body = ErrorResponse(error="invalid request", details=[_describe(e) for e in errors])
        return JSONResponse(body.model_dump(), status_code=422)

    @app.get("/health")
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/ready")
    def ready() -> dict[str, Any]:
        """Readiness: the model is loaded and verified."""
        return {"status": "ready", "model": name, "labels": predictor.labels, "backend": predictor.backend}

    @app.post(
        "/v1/predict",
        response_model=PredictResponse,
        responses={
            400: {"model": ErrorResponse},
            413: {"model": ErrorResponse},
            422: {"model": ErrorResponse},
        },
    )
    def predict(request: PredictRequest) -> Any:
        """Label and probabilities for `text`, or for each of `texts`."""
        examples = request.all_examples()
        if len(examples) > max_batch:
            body = ErrorResponse(
                error=f"too many texts: {len(examples)} sent, at most {max_batch} per request",
                details=["split the batch into several requests"],
            )
            return JSONResponse(body.model_dump(), status_code=413)
        try:
            return {"model": name, "predictions": predictor.predict_raw(examples)}
        except InvalidExample as error:
            body = ErrorResponse(error="invalid request", details=[str(error)])
            return JSONResponse(body.model_dump(), status_code=422)

    return BodySizeLimit(app, max_body_bytes)

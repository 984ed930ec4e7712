"""Admin routes (admin scope): see the versions and weights, change the weights, add a verified
run as a new version, roll the last weight change back. No request is dropped: a new version is
loaded beside the others and gets traffic only when the weights say so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tunesmith.errors import TunesmithError
from tunesmith.serve.routes.common import authorized, service_of
from tunesmith.serve.service import ServeError
from tunesmith.serve.settings import VERSION_NAME

router = APIRouter(prefix="/admin", tags=["admin"])


class WeightsRequest(BaseModel):
    weights: dict[str, float] = Field(description="Version -> traffic weight, e.g. {'v1': 50, 'v2': 50}.")


class AddVersionRequest(BaseModel):
    name: str = Field(pattern=VERSION_NAME.pattern)
    run: str = Field(description="A run folder on the server's disk.")


def _state(request: Request) -> dict[str, Any]:
    versions = service_of(request).versions
    return {
        "versions": [v.describe() for v in versions.all()],
        "weights": versions.weights,
        "history": versions.history,
    }


@router.get("/versions")
def versions(request: Request) -> dict[str, Any]:
    authorized(request, "admin")
    return _state(request)


@router.put("/weights")
def set_weights(body: WeightsRequest, request: Request) -> dict[str, Any]:
    authorized(request, "admin")
    try:
        service_of(request).versions.set_weights(body.weights)
    except TunesmithError as error:
        raise ServeError(409, str(error)) from None
    return _state(request)


@router.post("/versions")
async def add_version(body: AddVersionRequest, request: Request) -> dict[str, Any]:
    authorized(request, "admin")
    try:
        await service_of(request).versions.add(body.name, Path(body.run).resolve())
    except TunesmithError as error:
        raise ServeError(409, str(error)) from None
    return _state(request)


@router.post("/rollback")
def rollback(request: Request) -> dict[str, Any]:
    authorized(request, "admin")
    try:
        service_of(request).versions.rollback()
    except TunesmithError as error:
        raise ServeError(409, str(error)) from None
    return _state(request)

"""A new run from the browser: a data file (uploaded, or picked under the data folder), init's
analysis shown as a form that is the recipe, then the run into the queue."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from tunesmith.errors import TunesmithError
from tunesmith.web import recipe_form
from tunesmith.web.jobs import Job
from tunesmith.web.pages import render, state_of
from tunesmith.web.uploads import UploadRefused, accepted_types, data_files, pick, save_upload

router = APIRouter()
_FORM_OVERHEAD = 1 << 20  # multipart boundaries and the other fields


@router.get("/new")
def new_form(request: Request) -> Response:
    state = state_of(request)
    state.access.require(request, "run")
    return _new_page(request)


def _new_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    settings = state_of(request).settings
    return render(
        request,
        "new.html",
        status,
        error=error,
        data_files=data_files(settings.data_dir),
        accepted=accepted_types(),
        limit_mb=settings.max_upload_bytes / (1 << 20),
    )


@router.post("/new")
async def new_upload(request: Request) -> Response:
    state = state_of(request)
    state.access.require(request, "run")
    limit = state.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + _FORM_OVERHEAD:
        raise UploadRefused(
            413, f"the upload is larger than the console's limit of {limit / (1 << 20):.3g} MB"
        )
    form = await request.form(max_files=1, max_fields=10)
    upload, picked = form.get("file"), str(form.get("pick") or "")
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            source = await save_upload(upload, state.settings.uploads_dir, limit)
            shown = upload.filename
        elif picked:
            source, shown = pick(state.settings.data_dir, picked), picked
        else:
            raise UploadRefused(400, "choose a file to upload, or one from the data folder")
    except UploadRefused as refused:
        return _new_page(request, refused.message, refused.status)
    job = state.queue.new_draft(source, shown)
    try:
        await run_in_threadpool(recipe_form.analyse, source, state.queue.recipe(job))
    except TunesmithError as error:
        shutil.rmtree(state.queue.folder(job.id), ignore_errors=True)
        return _new_page(request, f"{shown}: {error}", 422)
    return RedirectResponse(f"/new/{job.id}", status_code=303)


def _draft(request: Request, job_id: str) -> Job:
    try:
        job = state_of(request).queue.get(job_id)
    except KeyError:
        raise HTTPException(404) from None
    if job.state != "draft":
        raise HTTPException(409, f"this run was already started: see /jobs/{job.id}")
    return job


def _draft_page(
    request: Request,
    job: Job,
    values: dict[str, str],
    extra: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    recipe = state_of(request).queue.recipe(job)
    return render(
        request,
        "draft.html",
        status,
        job=job,
        fields=recipe_form.FIELDS,
        values=values,
        extra=extra,
        findings=recipe_form.read_findings(recipe),
        recipe_text=recipe.read_text(encoding="utf-8"),
        error=error,
    )


@router.get("/new/{job_id}")
def draft_form(request: Request, job_id: str) -> Response:
    state = state_of(request)
    state.access.require(request, "run")
    job = _draft(request, job_id)
    values = recipe_form.values(state.queue.recipe(job))
    return _draft_page(request, job, values | {"name": state.queue.free_name(values["name"], job.id)})


@router.post("/new/{job_id}")
async def draft_start(request: Request, job_id: str) -> Response:
    state = state_of(request)
    who = state.access.require(request, "run")
    job = _draft(request, job_id)
    form = {k: str(v) for k, v in (await request.form(max_files=0, max_fields=40)).items()}
    recipe = state.queue.recipe(job)
    current = recipe_form.values(recipe)
    extra = form.get("more", "")
    try:
        wishes = recipe_form.wishes_of(form, current)
        if wishes is not None:  # a changed task or field: init decides what follows from it
            await run_in_threadpool(recipe_form.analyse, Path(job.source), recipe, wishes)
            current = recipe_form.values(recipe)
            if form.get("action") == "reanalyse":
                return _draft_page(request, job, current | {"name": form.get("name", current["name"])}, extra)
        elif form.get("action") == "reanalyse":  # nothing init decides changed: the form as sent
            return _draft_page(request, job, current | {k: v for k, v in form.items() if k in current}, extra)
        overrides = recipe_form.overrides_of(form, current, extra)
        name = await run_in_threadpool(recipe_form.check, recipe, overrides)
        problem = state.queue.name_taken(name, job.id)
        if problem:
            raise TunesmithError(problem)
    except TunesmithError as error:
        return _draft_page(request, job, {**current, **form}, extra, str(error), 422)
    state.queue.submit(job, name, overrides, who)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)

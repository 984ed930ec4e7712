"""Signing in with an API key (a session cookie for the browser) and out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tunesmith.web.access import SESSION_COOKIE, same_origin
from tunesmith.web.pages import render, state_of

router = APIRouter()


def _local_path(target: str) -> str:
    """Only a path of this console: never another site after signing in."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=_local_path(next))


@router.post("/login")
async def login(request: Request) -> Response:
    same_origin(request)
    form = await request.form(max_files=0, max_fields=3)
    target = _local_path(str(form.get("next") or "/"))
    token = state_of(request).access.sign_in(str(form.get("key") or ""))
    if token is None:
        return render(request, "login.html", 401, next=target, error="that key is not valid for the console")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    same_origin(request)
    state_of(request).access.sign_out(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response

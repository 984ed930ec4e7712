"""Who may do what in the console: the server's API keys (`tunesmith keys create`), with the
`read` scope for the pages and the playground and `run` to upload, start, stop and resume runs.
A browser signs in once with its key and gets a session cookie (HttpOnly, SameSite=Strict);
scripts send `Authorization: Bearer KEY`. Every POST must come from the console's own pages
(the Origin check): a web page elsewhere cannot start a run on a console bound to localhost."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from fastapi import Request

from tunesmith.serve.auth import ApiKey, KeyRing
from tunesmith.web.settings import ConsoleSettings

SESSION_COOKIE = "tunesmith_console"
LOCAL = "local user"  # who acts when keys are off (localhost)


class Denied(Exception):
    """A request the console refuses: 401 (no key: sign in), 403 (the key may not)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Access:
    def __init__(self, settings: ConsoleSettings) -> None:
        self.required = settings.auth
        self.ring = KeyRing(list(settings.keys))
        self._sessions: dict[str, ApiKey] = {}

    def sign_in(self, key: str) -> str | None:
        """A new session token for a key that may at least read; None for any other."""
        found = self.ring.find(f"Bearer {key.strip()}")
        if not isinstance(found, ApiKey) or not found.allows("read"):
            return None
        token = secrets.token_urlsafe(32)
        self._sessions[token] = found
        return token

    def sign_out(self, token: str | None) -> None:
        if token:
            self._sessions.pop(token, None)

    def key_of(self, request: Request) -> ApiKey | None:
        header = request.headers.get("authorization")
        if header:
            found = self.ring.find(header)
            return found if isinstance(found, ApiKey) else None
        token = request.cookies.get(SESSION_COOKIE)
        return self._sessions.get(token) if token else None

    def who(self, request: Request) -> str | None:
        """The signed-in key's name (LOCAL when keys are off); None when nobody is signed in."""
        if not self.required:
            return LOCAL
        key = self.key_of(request)
        return key.name if key else None

    def may(self, request: Request, scope: str) -> bool:
        if not self.required:
            return True
        key = self.key_of(request)
        return key is not None and key.allows(scope)

    def require(self, request: Request, scope: str) -> str:
        """The acting key's name, or Denied. POSTs must also come from this console's pages."""
        if request.method == "POST":
            same_origin(request)
        if not self.required:
            return LOCAL
        key = self.key_of(request)
        if key is None:
            raise Denied(401, "sign in with an API key to use the console")
        if not key.allows(scope):
            raise Denied(
                403,
                f"the key '{key.name}' may only read; starting or stopping runs needs the run scope",
            )
        return key.name


def same_origin(request: Request) -> None:
    """Refuse a POST whose Origin (or Referer) names another site than the Host it was sent to."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return  # not a browser form (curl, a script): the key check is what guards it
    if urlsplit(source).netloc != request.headers.get("host", ""):  # "null" (a sandboxed page) too
        raise Denied(403, "refused: the form was not sent from this console's own pages")

"""The Python SDK: `Client(base_url).predict("text")` against a `tunesmith serve` server."""

from __future__ import annotations

import time
from typing import Any

import httpx

RETRY_STATUS = frozenset({500, 502, 503, 504})


class ClientError(Exception):
    """The server refused the request (4xx): the message is the server's explanation."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class Client:
    """HTTP client with timeouts, and retries with backoff on connection errors and 5xx."""

    def __init__(
        self,
        base_url: str,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        api_key: str | None = None,
    ) -> None:
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, headers=headers)
        self.retries = retries
        self.backoff = backoff

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            try:
                response = self._http.request(method, path, **kwargs)
            except (httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError):
                if attempt >= self.retries:
                    raise
            else:
                if response.status_code < 400:
                    return response.json()
                if response.status_code not in RETRY_STATUS or attempt >= self.retries:
                    raise ClientError(response.status_code, _message(response))
            time.sleep(self.backoff * 2**attempt)
            attempt += 1

    def predict(self, text: str | list[str], text_pair: str | list[str | None] | None = None) -> Any:
        """One answer for a string, a list of answers for a list. `text_pair` is the second text
        of two-text tasks: the context (extractive QA) or a candidate answer (matching)."""
        if isinstance(text, str):
            body: dict[str, Any] = {"text": text}
            if text_pair is not None:
                body["text_pair"] = text_pair
            return self._request("POST", "/v1/predict", json=body)["predictions"][0]
        body = {"texts": list(text)}
        if text_pair is not None:
            body["text_pairs"] = list(text_pair)
        return self._request("POST", "/v1/predict", json=body)["predictions"]

    def health(self) -> dict[str, Any]:
        return self._request("GET", "/health")

    def ready(self) -> dict[str, Any]:
        return self._request("GET", "/ready")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text
    details = "; ".join(body.get("details", []))
    return body.get("error", str(body)) + (f" ({details})" if details else "")

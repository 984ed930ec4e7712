"""The Python SDK of `tunesmith serve`: `Client` (sync) and `AsyncClient` (asyncio), same methods.

    from tunesmith.client import Client
    with Client("http://127.0.0.1:8000", api_key="tsk_...") as client:
        answer = client.predict("如何重置密码?")          # a Prediction: a dict, plus .version, .request_id
        client.feedback(answer.request_id, 1)             # the outcome, for `tunesmith ab-test`
        reply = client.answer("密码忘了怎么办?")          # knowledge-base answer or a hand-over

A list of any length is sent in requests of `batch_size` texts and answered in order. Connection
errors, 429, 502, 503 and 504 are retried with exponential back-off and jitter, waiting at least
what the server's `Retry-After` asks; any other 4xx is raised at once as `ClientError` with the
server's explanation (it would fail again).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, TypedDict

import httpx

RETRY_STATUS = frozenset({429, 502, 503, 504})
RETRY_ERRORS = (httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.WriteError)


class ClientError(Exception):
    """The server refused the request: the message is the server's explanation."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class Prediction(dict[str, Any]):
    """One answer (label, score, probabilities ... as the task gives them), with the version that
    answered and the request id to send feedback for."""

    def __init__(self, answer: dict[str, Any], version: str | None, request_id: str | None) -> None:
        super().__init__(answer)
        self.version = version
        self.request_id = request_id


class KnowledgeAnswer(TypedDict):
    """The reply of POST /v1/answer: `status` answered, handed_over (below the confidence
    threshold: a person takes over) or refused (the safety filter); `answer` is what to send."""

    model: str
    version: str
    request_id: str
    status: str
    answer: str
    confidence: float | None
    threshold: float | None
    candidates: list[dict[str, Any]]
    rewritten: bool
    filtered: list[dict[str, Any]]


def _question(
    question: str, conversation: Sequence[dict[str, str]] | None, top_k: int | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"question": question, "conversation": list(conversation or [])}
    if top_k is not None:
        body["top_k"] = top_k
    return body


class _Calls:
    """What both clients share: request bodies, headers, the retry policy, reading answers."""

    def __init__(
        self,
        retries: int,
        backoff: float,
        max_backoff: float,
        api_key: str | None,
        version: str | None,
        batch_size: int,
    ) -> None:
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        if version:
            self.headers["x-model-version"] = version
        self.batch_size = batch_size

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Seconds before the next try: back-off with full jitter, at least the Retry-After."""
        wait = random.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))
        asked = response.headers.get("retry-after") if response is not None else None
        if asked is not None:
            with contextlib.suppress(ValueError):
                wait = max(wait, float(asked))
        return wait

    def should_retry(self, attempt: int, response: httpx.Response | None) -> bool:
        return attempt < self.retries and (response is None or response.status_code in RETRY_STATUS)

    @staticmethod
    def read(response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise ClientError(response.status_code, _message(response))
        return response.json()

    def bodies(self, texts: Sequence[str], pairs: Sequence[str | None] | None) -> list[dict[str, Any]]:
        out = []
        for start in range(0, len(texts), self.batch_size):
            body: dict[str, Any] = {"texts": list(texts[start : start + self.batch_size])}
            if pairs is not None:
                body["text_pairs"] = list(pairs[start : start + self.batch_size])
            out.append(body)
        return out

    def row_bodies(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"records": list(rows[s : s + self.batch_size])} for s in range(0, len(rows), self.batch_size)
        ]

    @staticmethod
    def predictions(reply: dict[str, Any]) -> list[Prediction]:
        return [Prediction(p, reply.get("version"), reply.get("request_id")) for p in reply["predictions"]]


def _one_or_many(text: str | Sequence[str], text_pair: Any) -> tuple[list[str], list[str | None] | None]:
    if isinstance(text, str):
        return [text], None if text_pair is None else [text_pair]
    return list(text), None if text_pair is None else list(text_pair)


def _chat(text: str, max_tokens: int | None, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": text}], "stream": stream}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return body


def _piece(line: str) -> str | None:
    """The text of one server-sent event line of a streamed chat completion (None: not text)."""
    if not line.startswith("data: ") or line == "data: [DONE]":
        return None
    return json.loads(line[6:])["choices"][0]["delta"].get("content") or None


class Client:
    """Synchronous client: timeouts, retries with back-off honouring Retry-After, API keys,
    version pinning (`version=`), batches of any size."""

    def __init__(
        self,
        base_url: str,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        api_key: str | None = None,
        version: str | None = None,
        batch_size: int = 64,
        max_backoff: float = 30.0,
    ) -> None:
        self._calls = _Calls(retries, backoff, max_backoff, api_key, version, batch_size)
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, headers=self._calls.headers)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            response = None
            try:
                response = self._http.request(method, path, **kwargs)
            except RETRY_ERRORS:
                if not self._calls.should_retry(attempt, None):
                    raise
            else:
                if not self._calls.should_retry(attempt, response):
                    return self._calls.read(response)
            time.sleep(self._calls.delay(attempt, response))
            attempt += 1

    def predict(self, text: str | Sequence[str], text_pair: str | Sequence[str | None] | None = None) -> Any:
        """A `Prediction` for a string, a list of them (in order) for a list. `text_pair`: the
        second text of two-text tasks (the context for QA, a candidate answer for matching)."""
        texts, pairs = _one_or_many(text, text_pair)
        answers = [
            p
            for body in self._calls.bodies(texts, pairs)
            for p in self._calls.predictions(self._request("POST", "/v1/predict", json=body))
        ]
        return answers[0] if isinstance(text, str) else answers

    def predict_rows(self, rows: dict[str, Any] | Sequence[dict[str, Any]]) -> Any:
        """A tabular run's `Prediction` for a row (its columns by name), a list for a list of rows."""
        many = [rows] if isinstance(rows, dict) else list(rows)
        answers = [
            p
            for body in self._calls.row_bodies(many)
            for p in self._calls.predictions(self._request("POST", "/v1/predict", json=body))
        ]
        return answers[0] if isinstance(rows, dict) else answers

    def answer(
        self,
        question: str,
        conversation: Sequence[dict[str, str]] | None = None,
        top_k: int | None = None,
    ) -> KnowledgeAnswer:
        """The knowledge base's answer to a customer's question (a matching run), or a hand-over;
        `conversation`: the turns so far ({"role", "content"}), for the rewriter's tone."""
        return self._request("POST", "/v1/answer", json=_question(question, conversation, top_k))

    def feedback(self, request_id: str, outcome: int | bool) -> dict[str, Any]:
        """Record whether an answer helped (1/True) or not (0/False), for the online A/B test."""
        return self._request("POST", "/v1/feedback", json={"request_id": request_id, "outcome": int(outcome)})

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embeddings of a bi-encoder run (OpenAI-compatible /v1/embeddings), in order."""
        out: list[list[float]] = []
        for start in range(0, len(texts), self._calls.batch_size):
            reply = self._request(
                "POST", "/v1/embeddings", json={"input": list(texts[start : start + self._calls.batch_size])}
            )
            out.extend(d["embedding"] for d in sorted(reply["data"], key=lambda d: d["index"]))
        return out

    def generate(self, text: str, max_tokens: int | None = None) -> str:
        """A causal-LM run's answer, whole."""
        reply = self._request("POST", "/v1/chat/completions", json=_chat(text, max_tokens, stream=False))
        return str(reply["choices"][0]["message"]["content"])

    def stream(self, text: str, max_tokens: int | None = None) -> Iterator[str]:
        """A causal-LM run's answer, piece by piece as it is generated (server-sent events)."""
        with self._http.stream(
            "POST", "/v1/chat/completions", json=_chat(text, max_tokens, stream=True)
        ) as reply:
            if reply.status_code >= 400:
                reply.read()
                raise ClientError(reply.status_code, _message(reply))
            for line in reply.iter_lines():
                piece = _piece(line)
                if piece:
                    yield piece

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


class AsyncClient:
    """The asyncio client: the same methods as `Client`, awaited; `stream` is an async iterator."""

    def __init__(
        self,
        base_url: str,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        api_key: str | None = None,
        version: str | None = None,
        batch_size: int = 64,
        max_backoff: float = 30.0,
    ) -> None:
        self._calls = _Calls(retries, backoff, max_backoff, api_key, version, batch_size)
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout, headers=self._calls.headers
        )

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            response = None
            try:
                response = await self._http.request(method, path, **kwargs)
            except RETRY_ERRORS:
                if not self._calls.should_retry(attempt, None):
                    raise
            else:
                if not self._calls.should_retry(attempt, response):
                    return self._calls.read(response)
            await asyncio.sleep(self._calls.delay(attempt, response))
            attempt += 1

    async def predict(
        self, text: str | Sequence[str], text_pair: str | Sequence[str | None] | None = None
    ) -> Any:
        texts, pairs = _one_or_many(text, text_pair)
        replies = await asyncio.gather(
            *(self._request("POST", "/v1/predict", json=body) for body in self._calls.bodies(texts, pairs))
        )
        answers = [p for reply in replies for p in self._calls.predictions(reply)]
        return answers[0] if isinstance(text, str) else answers

    async def predict_rows(self, rows: dict[str, Any] | Sequence[dict[str, Any]]) -> Any:
        many = [rows] if isinstance(rows, dict) else list(rows)
        replies = await asyncio.gather(
            *(self._request("POST", "/v1/predict", json=body) for body in self._calls.row_bodies(many))
        )
        answers = [p for reply in replies for p in self._calls.predictions(reply)]
        return answers[0] if isinstance(rows, dict) else answers

    async def answer(
        self,
        question: str,
        conversation: Sequence[dict[str, str]] | None = None,
        top_k: int | None = None,
    ) -> KnowledgeAnswer:
        return await self._request("POST", "/v1/answer", json=_question(question, conversation, top_k))

    async def feedback(self, request_id: str, outcome: int | bool) -> dict[str, Any]:
        return await self._request(
            "POST", "/v1/feedback", json={"request_id": request_id, "outcome": int(outcome)}
        )

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        size = self._calls.batch_size
        replies = await asyncio.gather(
            *(
                self._request("POST", "/v1/embeddings", json={"input": list(texts[s : s + size])})
                for s in range(0, len(texts), size)
            )
        )
        return [d["embedding"] for r in replies for d in sorted(r["data"], key=lambda d: d["index"])]

    async def generate(self, text: str, max_tokens: int | None = None) -> str:
        reply = await self._request(
            "POST", "/v1/chat/completions", json=_chat(text, max_tokens, stream=False)
        )
        return str(reply["choices"][0]["message"]["content"])

    async def stream(self, text: str, max_tokens: int | None = None) -> AsyncIterator[str]:
        body = _chat(text, max_tokens, stream=True)
        async with self._http.stream("POST", "/v1/chat/completions", json=body) as reply:
            if reply.status_code >= 400:
                await reply.aread()
                raise ClientError(reply.status_code, _message(reply))
            async for line in reply.aiter_lines():
                piece = _piece(line)
                if piece:
                    yield piece

    async def health(self) -> dict[str, Any]:
        return await self._request("GET", "/health")

    async def ready(self) -> dict[str, Any]:
        return await self._request("GET", "/ready")

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text
    details = "; ".join(body.get("details", []))
    return body.get("error", str(body)) + (f" ({details})" if details else "")

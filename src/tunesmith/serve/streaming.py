"""Tokens of a generated answer - a causal LM's reply, a translation - as they are generated
(transformers' TextIteratorStreamer, with `generate` in a thread that holds the model's lock), for
SSE and WebSocket streaming."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

from tunesmith.runtime.predict import Predictor

_END = object()


def streams(predictor: Predictor | None) -> bool:
    """Whether the version generates text, so that its answers can be streamed."""
    return predictor is not None and hasattr(predictor.task, "generation_batch")


async def stream_answer(
    predictor: Predictor, text: str, max_new_tokens: int | None = None
) -> AsyncIterator[str]:
    """The answer to `text` (raw: cleaned and de-identified here), piece by piece, ending where the
    task's text ends (a stop string is not sent)."""
    from transformers import TextIteratorStreamer

    from tunesmith.tasks.generation import cut_at_stop

    task: Any = predictor.task
    seen = predictor.model_input([text])
    batch = task.generation_batch(predictor, seen)
    tokenizer = predictor.tokenizer
    stops = task.stop_strings(predictor)
    # an encoder-decoder's first output is its start token, a decoder's its prompt: skipped alike
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    limit = max_new_tokens or predictor.recipe.task.max_new_tokens
    stop_options = {"stop_strings": list(stops), "tokenizer": tokenizer} if stops else {}
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()

    def generate() -> None:
        try:
            with predictor.locked():
                predictor.model.generate(
                    **batch, max_new_tokens=limit, do_sample=False, streamer=streamer, **stop_options
                )
        except Exception as error:
            streamer.end()
            loop.call_soon_threadsafe(queue.put_nowait, error)

    def pump() -> None:
        for piece in streamer:
            loop.call_soon_threadsafe(queue.put_nowait, piece)
        loop.call_soon_threadsafe(queue.put_nowait, _END)

    threading.Thread(target=generate, daemon=True, name="generate").start()
    threading.Thread(target=pump, daemon=True, name="stream").start()
    while True:
        item = await queue.get()
        if item is _END:
            return
        if isinstance(item, Exception):
            raise item
        piece, stopped = cut_at_stop(item, stops)
        if piece:
            yield piece
        if stopped:
            return

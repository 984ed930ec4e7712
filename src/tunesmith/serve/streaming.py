"""Tokens of a causal-LM answer as they are generated (transformers' TextIteratorStreamer, with
`generate` in a thread that holds the model's lock), for SSE and WebSocket streaming."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

from tunesmith.predict import Predictor

_END = object()


async def stream_answer(
    predictor: Predictor, instruction: str, max_new_tokens: int | None = None
) -> AsyncIterator[str]:
    """The answer to `instruction` (raw: cleaned and de-identified here), piece by piece."""
    from transformers import TextIteratorStreamer

    from tunesmith.tasks.causal_lm import prompt_of

    seen = predictor.model_input([instruction])[0]["text"]
    tokenizer = predictor.tokenizer
    prompt = prompt_of(tokenizer, seen)
    tokenizer.truncation_side = "left"
    batch = tokenizer(
        [prompt],
        add_special_tokens=False,
        truncation=True,
        max_length=predictor.recipe.model.max_length,
        return_tensors="pt",
    )
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    limit = max_new_tokens or predictor.recipe.task.max_new_tokens
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()

    def generate() -> None:
        try:
            with predictor.locked():
                predictor.model.generate(**batch, max_new_tokens=limit, do_sample=False, streamer=streamer)
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
        if item:
            yield item

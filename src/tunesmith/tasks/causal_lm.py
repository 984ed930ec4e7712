"""Supervised fine-tuning of a chat model: instruction (`text`) -> answer (`label`).

Each record is rendered with the model's own chat template (a user turn, then the assistant
turn); the loss is on the answer's tokens only (the prompt's labels are -100), so the model
learns to answer, not to repeat questions. A model without a chat template gets a plain
"### Instruction / ### Response" layout. Answers are generated greedily and scored like seq2seq.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from transformers import AutoModelForCausalLM, PreTrainedTokenizerBase

from tunesmith.tasks.base import Runtime
from tunesmith.tasks.generation import TextTargetTask
from tunesmith.tasks.prompted import join_prompt_and_target, prompt_batch

PLAIN_PROMPT = "### Instruction:\n{instruction}\n\n### Response:\n"


def prompt_of(tokenizer: PreTrainedTokenizerBase, instruction: str) -> str:
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "user", "content": instruction}]
        return str(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
    return PLAIN_PROMPT.format(instruction=instruction)


def answer_of(tokenizer: PreTrainedTokenizerBase, instruction: str, answer: str) -> str:
    """The text that follows the prompt in a whole conversation: the answer and its end-of-turn."""
    prompt = prompt_of(tokenizer, instruction)
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "user", "content": instruction}, {"role": "assistant", "content": answer}]
        full = str(tokenizer.apply_chat_template(messages, tokenize=False))
        if full.startswith(prompt):
            return full[len(prompt) :]
    return answer + (tokenizer.eos_token or "")


class CausalLMTask(TextTargetTask):
    type = "causal_lm"

    def build_model(self, model_dir: Path, labels: list[str], trust_remote_code: bool) -> Any:
        model = AutoModelForCausalLM.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
        if model.generation_config.pad_token_id is None:
            model.generation_config.pad_token_id = model.config.eos_token_id
        return model

    def load_model(self, model_dir: Path, trust_remote_code: bool) -> Any:
        return self.build_model(model_dir, [], trust_remote_code).eval()

    def encode(
        self,
        batch: dict[str, list[Any]],
        tokenizer: PreTrainedTokenizerBase,
        max_length: int,
        labels: list[str],
    ) -> dict[str, Any]:
        """Prompt tokens (cut to `model.max_length`) then answer tokens (cut to
        `task.max_target_length`); only the answer is learned."""
        prompts, replies = [], []
        for instruction, answer in zip(batch["text"], batch["label"], strict=True):
            prompts.append(
                tokenizer(prompt_of(tokenizer, instruction), add_special_tokens=False)["input_ids"]
            )
            reply = answer_of(tokenizer, instruction, answer)
            replies.append(tokenizer(reply, add_special_tokens=False)["input_ids"])
        return join_prompt_and_target(prompts, replies, max_length, self.options.max_target_length)

    def generation_batch(self, runtime: Runtime, examples: Sequence[dict[str, Any]]) -> Any:
        tokenizer = runtime.tokenizer
        prompts = [prompt_of(tokenizer, e["text"]) for e in examples]
        # the chat template writes its own special tokens
        return prompt_batch(tokenizer, prompts, runtime.recipe.model.max_length, special_tokens=False)

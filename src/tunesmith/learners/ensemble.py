"""The model of a bundle of learners: one learner, or the weighted average of several.

It answers like an export engine - `{"examples": [...]}` in, the task's `logits` out - so the
task's calibration, thresholds and decoding, `predict`, evaluation, export parity and every
serving route treat it as they treat one model. Each member's logits are divided by its
temperature, turned into probabilities (values for a number), averaged with the member weights,
and turned back into logits; a single member answers its own logits unchanged.

`model/learners.json` says which learners answer, with their weights and temperatures, why, and
the leaderboard of every learner that was fitted; the transformer member is `model/` itself,
the others `model/learners/<name>/`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from tunesmith.learners.catalog import TRANSFORMER
from tunesmith.learners.outputs import Kind, as_logits, probabilities
from tunesmith.tasks.base import ModelEngine

LEARNERS_FILE = "learners.json"
LEARNERS_DIR = "learners"


class Member(Protocol):
    name: str
    reads: tuple[str, ...]

    def logits(self, examples: Sequence[dict[str, Any]]) -> np.ndarray: ...

    def check(self, example: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class Weighted:
    learner: str
    weight: float
    temperature: float


@dataclass(frozen=True)
class LearnersSpec:
    """What `learners.json` holds."""

    kind: Kind
    served: str  # a learner's name, or "ensemble"
    members: list[Weighted]
    raw: dict[str, Any]

    @property
    def names(self) -> list[str]:
        return [m.learner for m in self.members]

    @property
    def with_transformer(self) -> bool:
        return TRANSFORMER in self.names

    @property
    def transformer_only(self) -> bool:
        return self.names == [TRANSFORMER]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LearnersSpec:
        members = [
            Weighted(m["learner"], float(m["weight"]), float(m["temperature"])) for m in data["members"]
        ]
        return cls(data["kind"], data["served"], members, data)


def read_spec(model_dir: Path) -> LearnersSpec | None:
    path = model_dir / LEARNERS_FILE
    if not path.is_file():
        return None
    return LearnersSpec.from_json(json.loads(path.read_text(encoding="utf-8")))


def member_dir(model_dir: Path, name: str) -> Path:
    return model_dir / LEARNERS_DIR / name


def combine(kind: Kind, parts: list[tuple[np.ndarray, float, float]]) -> np.ndarray:
    """The logits of a weighted average of members' (logits, weight, temperature): their
    probabilities averaged, as log-probabilities (log-odds; values for a number). One member's
    logits pass through the same round trip - a shift of a softmax, which changes no answer and
    no temperature - so they are bounded like an ensemble's: a margin of 30 in a thousand trees
    summed in float32 (an export) and in float64 (LightGBM) differs by ~1e-2, its log-probability
    by nothing."""
    total = None
    for logits, weight, temperature in parts:
        part = weight * probabilities(kind, logits, temperature if len(parts) > 1 else 1.0)
        total = part if total is None else total + part
    return as_logits(kind, total)  # type: ignore[arg-type]


class Ensemble(ModelEngine):
    def __init__(self, kind: Kind, members: list[tuple[Member, float, float]], name: str = "native") -> None:
        """`members`: (member, weight, temperature) each; `name`: the backend it answers on."""
        self.kind = kind
        self.members = members
        self.name = name

    @property
    def reads(self) -> set[str]:
        return {field for member, _, _ in self.members for field in member.reads}

    @property
    def single(self) -> bool:
        return len(self.members) == 1

    def member(self, name: str) -> Member | None:
        return next((m for m, _, _ in self.members if m.name == name), None)

    def member_logits(self, examples: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
        return {member.name: member.logits(examples) for member, _, _ in self.members}

    def combine(self, logits: Mapping[str, np.ndarray]) -> np.ndarray:
        return combine(self.kind, [(logits[m.name], w, t) for m, w, t in self.members])

    def __call__(self, tensors: Mapping[str, Any]) -> dict[str, np.ndarray]:
        return {"logits": self.combine(self.member_logits(tensors["examples"]))}

    def check(self, example: dict[str, Any]) -> None:
        """ValueError (naming the field) for an example a member cannot read."""
        for member, _, _ in self.members:
            member.check(example)

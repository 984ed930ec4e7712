"""Where a bundle of learners is written as ONNX: one graph per member in `export/onnx/` -
`model.onnx` for the transformer (traced and fused as a transformer alone is), `<learner>.onnx`
for each other learner (its linear model or boosters) - each proven on the test split against
the member as trained (`member_parity`), then the whole model's answers by the export stage.

Featurizers (n-grams, columns, pair similarities) are string processing that no converter
carries into ONNX: the export answers with them in Python, without PyTorch or scikit-learn.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.learners.ensemble import Ensemble
from tunesmith.learners.member import FeatureMember
from tunesmith.learners.transformer import TokenMember
from tunesmith.runtime.learners import learner_graph

TransformerWriter = Callable[[Any, Path], dict[str, Any]]


def write_learner_graphs(
    ensemble: Ensemble, folder: Path, transformer: TransformerWriter, file: str
) -> dict[str, Any]:
    """Each member's graph into `folder`; `transformer(model, path)` writes the transformer's at
    `folder/file` and returns what it did (fusions). Returns what was written, by member."""
    written: dict[str, Any] = {}
    for member, _, _ in ensemble.members:
        if isinstance(member, FeatureMember):
            member.write_onnx(folder / learner_graph(member.name))
            written[member.name] = {
                "file": learner_graph(member.name),
                "in_process": member.featurizer.describe(),
            }
        elif isinstance(member, TokenMember):
            written[member.name] = {"file": file, **transformer(member.model, folder / file)}
    return written


def member_parity(
    reference: Ensemble, candidate: Ensemble, examples: list[dict[str, Any]]
) -> dict[str, float]:
    """Each member's largest logit difference between the trained learner and its export."""
    expected, found = reference.member_logits(examples), candidate.member_logits(examples)
    return {
        name: float(np.max(np.abs(np.asarray(logits) - np.asarray(found[name])), initial=0.0))
        for name, logits in expected.items()
    }

"""A bundle of learners loaded to answer: each member on the backend asked for.

`native`: the trained learners as they are - the transformer in eager PyTorch, linear models in
numpy, boosters in LightGBM or XGBoost. An export (`onnx`): every member through its ONNX graph
in onnxruntime, the featurizers (n-grams, columns, pair similarities) in Python; no PyTorch, no
scikit-learn. Bundles written before learners existed (trees in `model/trees/`) load as a bundle
of that one learner.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tunesmith.data.column_table import ColumnTable
from tunesmith.learners.boosted import BoostedTrees, Booster
from tunesmith.learners.catalog import CATALOG, TRANSFORMER
from tunesmith.learners.ensemble import Ensemble, LearnersSpec, Member, member_dir, read_spec
from tunesmith.learners.features import ColumnFeatures
from tunesmith.learners.member import FeatureMember, onnx_session
from tunesmith.learners.transformer import TokenMember
from tunesmith.runtime.engines import OnnxEngine, TorchEngine
from tunesmith.runtime.formats import FORMATS

LEGACY_TREES = "trees"  # model/trees/: model.txt + features.json, before learners.json


def learner_graph(name: str) -> str:
    """The file of a member's ONNX graph inside an export folder (the transformer's is the format's own)."""
    return f"{name}.onnx"


def bundle_spec(model_dir: Path) -> LearnersSpec | None:
    """The learners of a bundle; None for a transformer alone (no learners.json, nothing else)."""
    spec = read_spec(model_dir)
    if spec is not None:
        return spec
    if (model_dir / LEGACY_TREES / "model.txt").is_file():
        return LearnersSpec.from_json(
            {
                "kind": "softmax",
                "served": "lightgbm",
                "members": [{"learner": "lightgbm", "weight": 1, "temperature": 1}],
            }
        )
    return None


def _legacy_trees(model_dir: Path, labels: list[str]) -> FeatureMember:
    folder = model_dir / LEGACY_TREES
    table = json.loads((folder / "features.json").read_text(encoding="utf-8"))
    booster = Booster.from_text("lightgbm", (folder / "model.txt").read_text(encoding="utf-8"))
    model = BoostedTrees("lightgbm", [booster], "softmax", len(labels))
    return FeatureMember(CATALOG["lightgbm"], ColumnFeatures(ColumnTable.from_json(table)), model)


def load_learners(
    model_dir: Path,
    spec: LearnersSpec,
    task: Any,
    recipe: Any,
    labels: list[str],
    tokenizer: Any,
    export: tuple[str, Path] | None = None,
) -> Ensemble:
    """The ensemble answering natively, or through `export` = (format, its folder)."""
    legacy = read_spec(model_dir) is None
    members: list[tuple[Member, float, float]] = []
    width = 1 if spec.kind == "value" else len(labels)
    for weighted in spec.members:
        member: Member
        if weighted.learner == TRANSFORMER:
            torch_model = None
            if export is None:
                torch_model = task.load_model(model_dir, recipe.model.trust_remote_code)
                engine: Any = TorchEngine(task.inference_graph(torch_model), task.graph_outputs)
            else:
                engine = OnnxEngine(export[1] / FORMATS[export[0]].file, task.graph_outputs, export[0])
            batch = recipe.evaluation.batch_size
            member = TokenMember(tokenizer, engine, recipe.model.max_length, width, batch, torch_model)
        elif legacy:
            member = _legacy_trees(model_dir, labels)
            if export is not None:  # exported before (model.onnx) or since (lightgbm.onnx)
                graph = export[1] / learner_graph(member.name)
                graph = graph if graph.is_file() else export[1] / FORMATS[export[0]].file
                member = FeatureMember(member.spec, member.featurizer, None, onnx_session(graph))
        elif export is None:
            member = FeatureMember.load(member_dir(model_dir, weighted.learner))
        else:
            graph = export[1] / learner_graph(weighted.learner)
            member = FeatureMember.from_onnx(member_dir(model_dir, weighted.learner), graph)
        members.append((member, weighted.weight, weighted.temperature))
    return Ensemble(spec.kind, members, "native" if export is None else export[0])
